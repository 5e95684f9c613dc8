/**
 * One connection run by a `handler()`: the sink its socket pushes to, and
 * the promise the supervisor waits on. The whole per-connection cost of
 * push mode is this object: no async frame, no promise per chunk, and
 * closures only for what the handler asked for (a `data` that returns a
 * promise, a `shutdown`, an idle timer).
 *
 * @module
 */
import type { Connection } from "../connection.ts";
import type { ProtocolEndListener } from "../direct_start.ts";
import type { ClosedError } from "../errors.ts";
import type { Socket } from "../transport.ts";
import { HOLD, PUSH, type PushSink, type PushSource, RELEASE } from "../socket/push_sink.ts";
import type { Handler } from "./types.ts";

// Bits of `HandlerRun.#flags`.
/** The connection is over: the supervisor was told. */
const DONE = 1;
/** A callback's promise is pending: deliveries are held. */
const WAITING = 2;
/** The stream ended while a callback's promise was pending: finish when it settles. */
const END_AFTER_WAIT = 4;

/** Runs `spec` over one connection's socket until the connection is over. */
export class HandlerRun<S, P> implements PushSink {
  readonly #spec: Handler<S, P>;
  readonly #socket: Socket;
  readonly #source: PushSource;
  #state!: S;
  #flags = 0;
  /** Told when the connection is over: the supervisor (direct start), or the protocol promise's settle. */
  #owner!: ProtocolEndListener<Connection<P>>;
  #conn!: Connection<P>;
  /** Settles a callback's promise; made by the first one that returns a promise. */
  #onSettled: ((error?: unknown) => void) | undefined;
  #onFailed: ((error: unknown) => void) | undefined;
  /** Chunks pushed so far, and as many as the idle timer saw at its last tick (-1: busy since). */
  #pushes = 0;
  #pushesSeen = 0;
  #idleTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(spec: Handler<S, P>, socket: Socket, source: PushSource) {
    this.#spec = spec;
    this.#socket = socket;
    this.#source = source;
  }

  /** Runs `connection`, then pushes; `owner` hears once when the connection is over. */
  start(conn: Connection<P>, options: P, owner: ProtocolEndListener<Connection<P>>): void {
    this.#owner = owner;
    this.#conn = conn;
    const spec = this.#spec;
    if (spec.shutdown !== undefined) conn.signal.addEventListener("abort", () => this.#onShutdown(), { once: true });
    let state: S | Promise<S> | undefined;
    try {
      state = spec.connection?.(this.#socket, conn, options);
    } catch (error) {
      return this.#fail(error);
    }
    if (isPromise(state)) state.then((value) => this.#begin(value), (error) => this.#fail(error));
    else this.#begin(state as S);
  }

  pushData(chunk: Uint8Array): void {
    if ((this.#flags & DONE) !== 0) return;
    this.#pushes++;
    let result: void | Promise<void>;
    try {
      result = this.#spec.data(chunk, this.#socket, this.#state);
    } catch (error) {
      return this.#fail(error);
    }
    if (isPromise(result)) this.#wait(result);
  }

  pushEnd(): void {
    if ((this.#flags & DONE) !== 0) return;
    const end = this.#spec.end;
    if (end === undefined) return this.#finish();
    let result: void | Promise<void>;
    try {
      result = end.call(this.#spec, this.#socket, this.#state);
    } catch (error) {
      return this.#fail(error);
    }
    if (!isPromise(result)) return this.#finish();
    this.#flags |= END_AFTER_WAIT;
    this.#wait(result);
  }

  pushClose(error: ClosedError | undefined): void {
    if (error !== undefined) this.#fail(error);
    else this.#finish();
  }

  // ---- internals ----

  #begin(state: S): void {
    if ((this.#flags & DONE) !== 0) return;
    this.#state = state;
    const idle = this.#spec.idleTimeout;
    if (idle !== undefined) {
      this.#idleTimer = setTimeout(() => this.#checkIdle(), idle);
    }
    try {
      this.#source[PUSH](this);
    } catch (error) {
      this.#fail(error);
    }
  }

  /** Holds deliveries until `promise` settles (a `data`, `end`, `timeout` or `shutdown` that returned one). */
  #wait(promise: Promise<void>): void {
    if ((this.#flags & WAITING) === 0) {
      this.#flags |= WAITING;
      this.#source[HOLD]();
    }
    this.#onSettled ??= () => {
      this.#flags &= ~WAITING;
      if ((this.#flags & END_AFTER_WAIT) !== 0) return this.#finish();
      this.#pushesSeen = -1; // a callback was busy: the quiet period starts now
      this.#source[RELEASE]();
    };
    this.#onFailed ??= (error) => this.#fail(error);
    promise.then(this.#onSettled, this.#onFailed);
  }

  /** Calls an optional callback like `data`: a throw fails the connection, a promise holds deliveries. */
  #call(callback: ((socket: Socket, state: S) => void | Promise<void>) | undefined): boolean {
    if (callback === undefined || (this.#flags & DONE) !== 0) return false;
    let result: void | Promise<void>;
    try {
      result = callback.call(this.#spec, this.#socket, this.#state);
    } catch (error) {
      this.#fail(error);
      return true;
    }
    if (isPromise(result)) this.#wait(result);
    return true;
  }

  #onShutdown(): void {
    this.#call(this.#spec.shutdown);
  }

  #checkIdle(): void {
    this.#idleTimer = undefined;
    if ((this.#flags & DONE) !== 0) return;
    const idle = this.#spec.idleTimeout!;
    // Bytes came or a callback was busy during the period: another full period (never early, at most twice late),
    // so nothing is done per chunk but a count.
    const active = (this.#flags & WAITING) !== 0 || this.#pushes !== this.#pushesSeen;
    this.#pushesSeen = this.#pushes;
    if (active) {
      this.#idleTimer = setTimeout(() => this.#checkIdle(), idle);
      return;
    }
    if (!this.#call(this.#spec.timeout)) return this.#finish();
    if ((this.#flags & DONE) === 0) this.#idleTimer = setTimeout(() => this.#checkIdle(), idle);
  }

  #finish(): void {
    if (!this.#over()) return;
    const closed = this.#closeCallback();
    if (closed === undefined) this.#owner.protocolEnded(this.#conn, false);
    else this.#owner.protocolEnded(this.#conn, true, closed.error);
  }

  #fail(error: unknown): void {
    if (!this.#over()) return;
    const onError = this.#spec.error;
    if (onError !== undefined) {
      try {
        onError.call(this.#spec, error, this.#socket, this.#state);
      } catch {
        // The connection fails with the first error; the error callback's own is not news.
      }
    }
    this.#closeCallback();
    this.#owner.protocolEnded(this.#conn, true, error);
  }

  /** Marks the run over and stops deliveries; false if it already was. */
  #over(): boolean {
    if ((this.#flags & DONE) !== 0) return false;
    this.#flags |= DONE;
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    this.#idleTimer = undefined;
    return true;
  }

  /** Calls `close` once; a throw is returned so the connection fails with it. */
  #closeCallback(): { error: unknown } | undefined {
    const close = this.#spec.close;
    if (close === undefined) return undefined;
    try {
      close.call(this.#spec, this.#socket, this.#state);
      return undefined;
    } catch (error) {
      return { error };
    }
  }
}

function isPromise<T>(value: unknown): value is Promise<T> {
  return value !== null && typeof value === "object" && typeof (value as Promise<T>).then === "function";
}
