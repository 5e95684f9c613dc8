/**
 * Push mode: how a socket hands its bytes to a `handler()` as they arrive,
 * instead of buffering them for `recv()`. The members are keyed by symbols
 * so they stay off the public `Socket` surface.
 *
 * @module
 */
import type { ClosedError } from "../errors.ts";

/** Switches a socket to push mode, delivering to the given sink from now on. */
export const PUSH: unique symbol = Symbol("corral.push");
/** Stops deliveries (and reading from the network) until `RELEASE`. */
export const HOLD: unique symbol = Symbol("corral.hold");
/** Delivers what arrived while held, and reads again. */
export const RELEASE: unique symbol = Symbol("corral.release");

/** Receives a socket's events in push mode. Calls come synchronously from the runtime's read path. */
export interface PushSink {
  /** Bytes arrived; the sink owns `chunk`. */
  pushData(chunk: Uint8Array): void;
  /** End of stream: every byte before it was pushed. */
  pushEnd(): void;
  /** The socket closed; `error` says why when it failed. */
  pushClose(error: ClosedError | undefined): void;
}

/** A socket that can push: `StreamSocket`, or a pump over any other `Socket`. */
export interface PushSource {
  /** Delivers buffered bytes, then every later event, to `sink`. Throws while a `recv()` is pending. */
  [PUSH](sink: PushSink): void;
  /** Holds deliveries; holds nest with the socket's own (a full send queue). */
  [HOLD](): void;
  /** Ends a `HOLD`. */
  [RELEASE](): void;
}
