/**
 * A `Socket` that first serves bytes already taken off another socket, then
 * reads from that socket: how bytes are "unread" after looking at them.
 * Used when a listener with `proxyHeader: { required: false }` finds no
 * PROXY signature on a socket that cannot take them back itself (a custom
 * transport's): the bytes it inspected go back in front of the stream.
 *
 * @module
 */
import type { Socket } from "../transport.ts";
import { BufferedSocket } from "../socket/buffered_socket.ts";

/** `inner` with `prefix` in front of its incoming bytes; everything else is `inner`'s. */
export class PrefixedSocket extends BufferedSocket {
  constructor(inner: Socket, prefix: Uint8Array) {
    super(inner);
    this.unshift(prefix);
  }
}
