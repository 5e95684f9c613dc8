/**
 * The raw Node.js echo, shared by raw_node.ts (`node:net`) and
 * raw_tls_node.ts (`node:tls`, whose server and sockets are `node:net`'s
 * with TLS in between): `data` -> `write`, pausing while the kernel is
 * behind (what `pipe` does, without the stream machinery in between).
 *
 * @module
 */
import type * as net from "node:net";
import { control, flag } from "./_control.ts";

/** Echoes one socket's data back until it ends. */
export function echo(socket: net.Socket): void {
  socket.on("data", (chunk) => {
    if (!socket.write(chunk)) socket.pause();
  });
  socket.on("drain", () => socket.resume());
  socket.on("error", () => socket.destroy());
}

/** Listens on 127.0.0.1 (`--port`, default any free one) and serves the control protocol of `_control.ts`. */
export function serve(server: net.Server): void {
  server.listen({ host: "127.0.0.1", port: Number(flag("port", "0")), backlog: 1024 }, () => {
    control((server.address() as net.AddressInfo).port, () => new Promise((resolve) => server.close(resolve)));
  });
}
