/**
 * The echo server from Ranch's guide (`tcp_echo`): every byte a client sends
 * comes back.
 *
 *   node scripts/run.mjs examples/echo.ts --port 5555   (Node.js 20: bundled on the fly)
 *   deno run -A examples/echo.ts --port 5555
 *   bun run examples/echo.ts --port 5555
 */
import { listen, tcp } from "../mod.ts";
import { flag, numberFlag, startOrExit, stopOnSignal } from "./_args.ts";
import { echo } from "./echo_protocol.ts";

const host = flag("host", "127.0.0.1");
const port = numberFlag("echo", "port", 5555);
const listener = await startOrExit(
  "echo",
  () => listen({ ref: "echo", transport: tcp({ host, port }), protocol: echo }),
);
console.log(`echo listening on ${host}:${listener.port}`);
stopOnSignal(() => listener.stop());
