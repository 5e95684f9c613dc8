/**
 * Sockets of finished connections, still flushing what their protocol sent.
 *
 * @module
 */
import type { Socket } from "./transport.ts";

/** How long a finished connection's socket may take to flush what the protocol sent before it is dropped. */
export const CLOSE_LINGER_MS = 5000;

/**
 * Closes finished connections' sockets, letting each flush for up to
 * `CLOSE_LINGER_MS`: a peer that never reads would otherwise keep a socket
 * flushing forever.
 */
export class ClosingSockets {
  /** Each socket still flushing, with when it must be gone. */
  #deadlines = new Map<Socket, number>();
  #sweeper: ReturnType<typeof setInterval> | undefined;

  /** Closes `socket` (flushing), and drops it if it is still flushing after the linger. */
  add(socket: Socket): void {
    this.#deadlines.set(socket, Date.now() + CLOSE_LINGER_MS);
    const closed = () => this.#deadlines.delete(socket);
    socket.close().then(closed, closed);
    // One timer for all closing sockets. It stops itself at a tick that finds
    // nothing closing, not when the last socket closes: with short
    // connections that would be a timer made and cancelled per connection.
    this.#sweeper ??= setInterval(() => this.#sweep(), CLOSE_LINGER_MS);
  }

  /** Drops every socket still flushing (the listener's shutdown is over). */
  destroyAll(): void {
    for (const socket of this.#deadlines.keys()) socket.destroy();
    this.#stopSweeper();
  }

  #sweep(): void {
    if (this.#deadlines.size === 0) return this.#stopSweeper();
    const now = Date.now();
    for (const [socket, deadline] of this.#deadlines) if (deadline <= now) socket.destroy();
  }

  #stopSweeper(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }
}
