/**
 * The worker module of test/workers_test.ts: every connection is answered
 * with the worker's id and a newline; then one line from the client decides
 * what follows (`data.mode` changes how the worker starts):
 *
 * - `crash`: an uncaught error ends the worker's thread (a crash);
 * - `block`: the worker's thread runs a busy loop for 30 s;
 * - `hold`: the connection stays open until the pool stops, then gets
 *   `bye`, and the protocol returns once the client closes;
 * - anything else, or the end of the stream: the connection ends.
 *
 * Modes: `serve` (the default); `fail 2` (worker 2's start function
 * throws); `hang` (the start function never resolves).
 */
import { listen, serveWorker, tcp } from "../mod.ts";

interface Data {
  mode?: string;
}

const decoder = new TextDecoder();

await serveWorker<Data | undefined>(({ id, port, data }) => {
  const mode = data?.mode ?? "serve";
  if (mode === `fail ${id}`) {
    throw Object.assign(new Error(`worker ${id} refuses to start`), { code: "EREFUSE" });
  }
  if (mode === "hang") return new Promise(() => {});
  return listen({
    ref: `id-worker-${id}`,
    transport: tcp({ host: "127.0.0.1", port, reusePort: true }),
    shutdownTimeout: 10_000,
    logger: { debug() {}, info() {}, warn: console.warn, error: console.error },
    protocol: async (conn) => {
      const socket = await conn.handshake();
      await socket.send(`${id}\n`);
      const line = decoder.decode((await socket.recv(0)) ?? new Uint8Array()).trim();
      if (line === "crash") {
        setTimeout(() => {
          throw new Error(`worker ${id} crashes on request`);
        }, 0);
      } else if (line === "block") {
        // A busy loop (bounded, in case nothing kills the worker): its event loop answers no one meanwhile.
        const end = Date.now() + 30_000;
        while (Date.now() < end);
      } else if (line === "hold") {
        if (!conn.signal.aborted) await new Promise((resolve) => conn.signal.addEventListener("abort", resolve));
        await socket.send("bye\n");
        await socket.recv(0).catch(() => null);
      }
    },
  });
});
