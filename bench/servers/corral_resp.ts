/**
 * examples/resp_server.ts's protocol as a bench server: `--shape pull` (the
 * default: `readAvailable()`, `unshift()`, `sendv()`) or `--shape handler`
 * (`handler()`), over `tcp()`, speaking the control protocol of _control.ts.
 *
 *   node --expose-gc bench/build/corral_resp.mjs [--port N] [--shape pull|handler]   (bundled by bench/run.mjs)
 *   deno run -A --v8-flags=--expose-gc bench/servers/corral_resp.ts [--port N] [--shape pull|handler]
 *   bun run bench/servers/corral_resp.ts [--port N] [--shape pull|handler]
 *
 * @module
 */
import { listen, tcp } from "../../mod.ts";
import { respHandler, respProtocol, RespStore } from "../../examples/resp_protocol.ts";
import { control, flag } from "./_control.ts";
import { LISTEN_SETTINGS, shapeOf } from "./_corral_echo_protocol.ts";

const store = new RespStore();
const shape = shapeOf(flag("shape", "pull"));
const listener = await listen({
  ref: "bench-resp",
  transport: tcp({ host: "127.0.0.1", port: Number(flag("port", "0")), noDelay: true }),
  protocol: shape === "pull" ? respProtocol(store) : respHandler(store),
  ...LISTEN_SETTINGS,
});
control(listener.port!, () => listener.stop(), () => listener.connections("all"));
