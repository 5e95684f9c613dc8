/**
 * Run as its own process by test/workers_test.ts (Deno, with and without
 * `--unstable-net`): starts 2 workers of test/_id_worker.ts, asks 100
 * connections which worker answered, stops the pool, and prints one JSON
 * line: `{ "ids": { "1": n, "2": m } }`, or `{ "unsupported": message }`
 * when startWorkers() throws UnsupportedError. Exits 0 in both cases.
 */
import { startWorkers, tcp, UnsupportedError } from "../mod.ts";

const module = new URL("./_id_worker.ts", import.meta.url);
try {
  const pool = await startWorkers({ module, count: 2 });
  const ids: Record<string, number> = {};
  for (let i = 0; i < 100; i++) {
    const socket = await tcp().connect({ host: "127.0.0.1", port: pool.port });
    const id = new TextDecoder().decode((await socket.recv(2, { timeout: 5000 }))!).trim();
    ids[id] = (ids[id] ?? 0) + 1;
    await socket.close();
  }
  await pool.stop();
  console.log(JSON.stringify({ ids }));
} catch (error) {
  if (!(error instanceof UnsupportedError)) throw error;
  console.log(JSON.stringify({ unsupported: error.message }));
}
