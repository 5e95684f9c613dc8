/**
 * The seeds' tcp_echo: every byte a client sends comes back.
 *
 *   node scripts/run.mjs examples/echo.ts --port 5555   (Node.js 20: bundled on the fly)
 *   deno run -A examples/echo.ts --port 5555
 *   bun run examples/echo.ts --port 5555
 */
import { listen, tcp } from "../mod.ts";
import { flag, stopOnSignal } from "./_args.ts";
import { echo } from "./echo_protocol.ts";

const listener = await listen({
  ref: "echo",
  transport: tcp({ host: flag("host", "127.0.0.1"), port: Number(flag("port", "5555")) }),
  protocol: echo,
});
console.log(`echo listening on ${flag("host", "127.0.0.1")}:${listener.port}`);
stopOnSignal(() => listener.stop());
