/**
 * The echo server from Ranch's guide (`tcp_echo`): every byte a client sends
 * comes back.
 *
 *   node scripts/run.mjs examples/echo.ts --port 5555   (Node.js 20: bundled on the fly)
 *   deno run -A examples/echo.ts --port 5555
 *   bun run examples/echo.ts --port 5555
 *
 * `--workers N` serves from N worker threads on the one port (each runs
 * examples/echo_worker.ts; Node.js 22.12 or later, Deno, Bun); Ctrl-C or
 * SIGTERM stops them all.
 */
import { listen, startWorkers, tcp } from "../mod.ts";
import { flag, numberFlag, startOrExit, stopOnSignal } from "./_args.ts";
import { echo } from "./echo_protocol.ts";

const host = flag("host", "127.0.0.1");
const port = numberFlag("echo", "port", 5555);
const workers = numberFlag("echo", "workers", 0);
if (workers > 0) {
  const module = new URL("./echo_worker.ts", import.meta.url);
  const pool = await startOrExit("echo", () => startWorkers({ module, count: workers, port, data: { host } }));
  console.log(`echo listening on ${host}:${pool.port} with ${workers} worker threads`);
  stopOnSignal(() => pool.stop());
} else {
  const listener = await startOrExit(
    "echo",
    () => listen({ ref: "echo", transport: tcp({ host, port }), protocol: echo }),
  );
  console.log(`echo listening on ${host}:${listener.port}`);
  stopOnSignal(() => listener.stop());
}
