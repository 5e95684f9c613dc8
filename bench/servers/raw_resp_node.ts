/**
 * The raw Node.js RESP twin of examples/resp_server.ts: `node:net`, the same
 * parser, `data` -> one `write` per batch, pausing while the kernel is behind.
 *
 *   node --expose-gc bench/build/raw_resp_node.mjs [--port N]   (bundled by bench/run.mjs)
 *
 * @module
 */
import * as net from "node:net";
import { RespConnection } from "./_resp_raw.ts";
import { serve } from "./_node_echo.ts";

serve(net.createServer({ noDelay: true }, (socket) => {
  const resp = new RespConnection();
  socket.on("data", (chunk) => {
    const out = resp.feed(chunk, false); // each data chunk is a fresh buffer
    if (out !== undefined && !socket.write(out)) socket.pause();
    if (resp.close) socket.end();
  });
  socket.on("drain", () => socket.resume());
  socket.on("error", () => socket.destroy());
}));
