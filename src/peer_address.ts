/**
 * A connection's peer: read off a socket just accepted, and rendered for
 * the supervisor's log lines.
 *
 * @module
 */
import type { Address, Socket } from "./transport.ts";

/**
 * The peer of a socket just accepted. Read now, not when it is first
 * needed: Node.js and Bun forget it once the socket is gone, and a log line
 * about a reset must still name it. One `getpeername(2)` at most (Deno and
 * TLS sockets already hold it); the socket keeps the value for `peername()`.
 */
export function peerOf(socket: Socket): Address | undefined {
  try {
    return socket.peername();
  } catch {
    return undefined;
  }
}

/** Renders a peer for logs: `127.0.0.1:5555`, `[::1]:5555`, a path or a memory name. */
export function formatAddress(address: Address | undefined): string {
  if (address === undefined) return "unknown peer";
  if ("port" in address) {
    return address.family === "IPv6" ? `[${address.address}]:${address.port}` : `${address.address}:${address.port}`;
  }
  if ("path" in address) return address.path === "" ? "unix socket" : address.path;
  return address.name === "" ? "memory client" : `memory ${address.name}`;
}
