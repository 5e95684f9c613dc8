/**
 * The raw Node.js echo server: `node:net` written the fast idiomatic way,
 * `data` -> `write`, pausing while the kernel is behind (what `pipe` does,
 * without the stream machinery in between).
 *
 *   node --expose-gc bench/build/raw_node.mjs [--port N]   (bundled by bench/run.mjs)
 *
 * @module
 */
import * as net from "node:net";
import { control, flag } from "./_control.ts";

const server = net.createServer({ noDelay: true }, (socket) => {
  socket.on("data", (chunk) => {
    if (!socket.write(chunk)) socket.pause();
  });
  socket.on("drain", () => socket.resume());
  socket.on("error", () => socket.destroy());
});
server.listen({ host: "127.0.0.1", port: Number(flag("port", "0")), backlog: 1024 }, () => {
  control((server.address() as net.AddressInfo).port, () => new Promise((resolve) => server.close(resolve)));
});
