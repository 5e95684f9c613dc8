/**
 * The reverse server from Ranch's guide (`tcp_reverse`): each line a client
 * sends comes back reversed.
 *
 *   node scripts/run.mjs examples/reverse.ts --port 5556
 *   deno run -A examples/reverse.ts --port 5556
 *   bun run examples/reverse.ts --port 5556
 */
import { listen, tcp } from "../mod.ts";
import { flag, numberFlag, startOrExit, stopOnSignal } from "./_args.ts";
import { reverse } from "./reverse_protocol.ts";

const host = flag("host", "127.0.0.1");
const port = numberFlag("reverse", "port", 5556);
const listener = await startOrExit(
  "reverse",
  () => listen({ ref: "reverse", transport: tcp({ host, port }), protocol: reverse }),
);
console.log(`reverse listening on ${host}:${listener.port}`);
stopOnSignal(() => listener.stop());
