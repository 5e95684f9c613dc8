/**
 * `idleTimeout` (Thousand Island's `read_timeout`): a connection whose
 * socket receives nothing for that long has its `signal` aborted with a
 * `TimeoutError`, and its socket is destroyed after the listener's
 * `shutdownTimeout` unless its protocol ended first.
 *
 * The read path pays nothing for it: the socket counts the chunks it
 * receives anyway (`recvCount`), and one interval timer per watched
 * connection, at a quarter of the timeout, looks whether the count moved.
 * A connection is idle once no check saw it move for the whole timeout, so
 * it is cut between `idleTimeout` and 1.25 × `idleTimeout` ms after its
 * last byte (later if the event loop is too busy to run the check). Bytes
 * received and not yet read keep it alive too: then the protocol is
 * behind, not the peer silent.
 *
 * @module
 */
import { TimeoutError } from "./errors.ts";
import { describe } from "./options.ts";
import type { Socket } from "./transport.ts";

/** The longest timer every runtime keeps (a signed 32-bit count of ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * An `idleTimeout` value: an integer from 1 to 2^31 - 1 (ms), or `Infinity`
 * for none; `fallback` when undefined. `name` names the option for errors.
 */
export function checkIdleTimeout(name: string, value: unknown, fallback = Infinity): number {
  if (value === undefined) return fallback;
  if (value === Infinity) return value;
  if (typeof value !== "number" || Number.isNaN(value)) {
    throw new TypeError(
      `${name} must be a number of ms from 1 to ${MAX_TIMER_MS}, or Infinity, got ${describe(value)}`,
    );
  }
  if (!Number.isInteger(value) || value < 1 || value > MAX_TIMER_MS) {
    throw new RangeError(`${name} must be an integer from 1 to ${MAX_TIMER_MS}, or Infinity, got ${value}`);
  }
  return value;
}

/** What an idle watch looks at, and tells. */
export interface IdleWatched {
  /** The connection's socket now (it changes at the handshake). */
  readonly socket: Socket;
  /** Called once when the timeout expires: aborts the connection's signal; false if a stop already had. */
  idleExpired(reason: TimeoutError): boolean;
}

/** One connection's idle clock: a counter check per quarter timeout, then the grace before the socket goes. */
export class IdleWatch {
  /** The timeout, in ms. */
  readonly ms: number;
  /** Whether it expired. */
  fired = false;
  #target: IdleWatched;
  /** Ms between the timeout's expiry and the socket's destruction, `Infinity`, or `"brutal"` for none. */
  #grace: number | "brutal";
  #timer: ReturnType<typeof setInterval> | undefined;
  #graceTimer: ReturnType<typeof setTimeout> | undefined;
  /** When a check last found the count moved (or the watch began): bytes came no later than that. */
  #activeAt: number;
  #seen: number;

  constructor(target: IdleWatched, ms: number, grace: number | "brutal") {
    this.ms = ms;
    this.#target = target;
    this.#grace = grace;
    this.#seen = received(target.socket);
    this.#activeAt = performance.now();
    this.#timer = setInterval(() => this.#check(), Math.max(1, Math.floor(ms / 4)));
  }

  /** Stops the clock, and the grace timer if it runs (the connection is over, or has a new timeout). */
  stop(): void {
    clearInterval(this.#timer);
    clearTimeout(this.#graceTimer);
    this.#timer = this.#graceTimer = undefined;
  }

  #check(): void {
    const socket = this.#target.socket;
    const count = received(socket);
    const now = performance.now();
    if (count !== this.#seen || unread(socket) > 0) {
      this.#seen = count;
      this.#activeAt = now;
      return;
    }
    // Timed from the check that saw the last bytes, not the time they came: never early, even when a
    // busy event loop runs the checks late and then back to back.
    if (now - this.#activeAt < this.ms) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (!this.#target.idleExpired(new TimeoutError(`received nothing for ${this.ms} ms (idleTimeout)`))) return;
    this.fired = true;
    const grace = this.#grace;
    if (grace === "brutal") this.#target.socket.destroy();
    else if (grace !== Infinity) this.#graceTimer = setTimeout(() => this.#target.socket.destroy(), grace);
  }
}

/** Chunks the socket received; a custom transport's socket that counts nothing is never idle-checked by bytes. */
function received(socket: Socket): number {
  const count = socket.recvCount;
  return typeof count === "number" ? count : 0;
}

/** Bytes received and not read yet (Corral's own sockets know; others say nothing). */
function unread(socket: Socket): number {
  return (socket as { unclaimedBytes?: number }).unclaimedBytes ?? 0;
}
