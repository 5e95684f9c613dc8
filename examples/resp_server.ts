/**
 * A small Redis-protocol (RESP2) server on Corral: PING, ECHO, SET, GET,
 * INCR, DEL, pipelining. Try it with the stock client:
 *
 *   node scripts/run.mjs examples/resp_server.ts --port 6380
 *   deno run -A examples/resp_server.ts --port 6380
 *   bun run examples/resp_server.ts --port 6380
 *
 *   redis-cli -p 6380 SET greeting hello && redis-cli -p 6380 GET greeting
 *   redis-benchmark -p 6380 -t set,get -P 16 -q
 */
import { listen, tcp } from "../mod.ts";
import { flag, numberFlag, startOrExit, stopOnSignal } from "./_args.ts";
import { respProtocol } from "./resp_protocol.ts";

const host = flag("host", "127.0.0.1");
const port = numberFlag("resp", "port", 6380);
const listener = await startOrExit(
  "resp",
  () => listen({ ref: "resp", transport: tcp({ host, port }), protocol: respProtocol() }),
);
console.log(`resp listening on ${host}:${listener.port}`);
stopOnSignal(() => listener.stop());
