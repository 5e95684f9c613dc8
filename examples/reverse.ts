/**
 * The seeds' tcp_reverse: each line a client sends comes back reversed.
 *
 *   node scripts/run.mjs examples/reverse.ts --port 5556
 *   deno run -A examples/reverse.ts --port 5556
 *   bun run examples/reverse.ts --port 5556
 */
import { listen, tcp } from "../mod.ts";
import { flag, stopOnSignal } from "./_args.ts";
import { reverse } from "./reverse_protocol.ts";

const listener = await listen({
  ref: "reverse",
  transport: tcp({ host: flag("host", "127.0.0.1"), port: Number(flag("port", "5556")) }),
  protocol: reverse,
});
console.log(`reverse listening on ${flag("host", "127.0.0.1")}:${listener.port}`);
stopOnSignal(() => listener.stop());
