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
  // Two generations instead of a deadline per socket: the sweeper ticks every
  // CLOSE_LINGER_MS, and drops what is still in the old one (added before the
  // last tick: between one and two lingers ago, as a deadline checked at each
  // tick would). A socket's slot is cleared when it closes, so nothing
  // finished is held; no map is written and read back per connection.
  /** Sockets added since the last tick, in slots below `#youngEnd` (`undefined`: closed since). */
  #young: (Socket | undefined)[] = [];
  #youngEnd = 0;
  /** Sockets added in the tick before, in slots below `#oldEnd`. */
  #old: (Socket | undefined)[] = [];
  #oldEnd = 0;
  /** Sockets in either generation still closing. */
  #closing = 0;
  #sweeper: ReturnType<typeof setInterval> | undefined;

  /** Closes `socket` (flushing), and drops it if it is still flushing after the linger. */
  add(socket: Socket): void {
    const generation = this.#young;
    const slot = this.#youngEnd++;
    generation[slot] = socket;
    this.#closing++;
    const closed = () => {
      generation[slot] = undefined;
      // Every socket added so far has closed (no callback is left to clear a
      // slot): both generations start over in the arrays they have.
      if (--this.#closing === 0) this.#youngEnd = this.#oldEnd = 0;
    };
    socket.close().then(closed, closed);
    // One timer for all closing sockets. It stops itself at a tick that finds
    // nothing closing, not when the last socket closes: with short
    // connections that would be a timer made and cancelled per connection.
    this.#sweeper ??= setInterval(() => this.#sweep(), CLOSE_LINGER_MS);
  }

  /** Drops every socket still flushing (the listener's shutdown is over). */
  destroyAll(): void {
    for (let i = 0; i < this.#oldEnd; i++) this.#old[i]?.destroy();
    for (let i = 0; i < this.#youngEnd; i++) this.#young[i]?.destroy();
    this.#stopSweeper();
  }

  #sweep(): void {
    if (this.#closing === 0) return this.#stopSweeper();
    for (let i = 0; i < this.#oldEnd; i++) this.#old[i]?.destroy();
    // A fresh array: the callbacks of sockets still closing clear slots in the ones they were given.
    this.#old = this.#young;
    this.#oldEnd = this.#youngEnd;
    this.#young = [];
    this.#youngEnd = 0;
  }

  #stopSweeper(): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }
}
