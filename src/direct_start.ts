/**
 * How the supervisor starts a protocol without a promise per connection:
 * a protocol function may carry a `[START_DIRECT]` method, which starts the
 * connection and later reports its end by a call instead of settling a
 * promise. `handler()` protocols carry one: an idle push-mode connection
 * then holds no promise, reaction or closure of its own.
 *
 * @module
 */

/** The key of a protocol's direct start. */
export const START_DIRECT: unique symbol = Symbol("corral.startDirect");

/** Hears that a connection started directly is over. */
export interface ProtocolEndListener<C> {
  /** The protocol is done with `conn`: it returned (`threw` false) or failed with `error`. Called once. */
  protocolEnded(conn: C, threw: boolean, error?: unknown): void;
}

/** Starts `conn` and calls `owner.protocolEnded(conn, ...)` once when it is over; never throws. */
export type DirectStart<C> = (conn: C, options: unknown, owner: ProtocolEndListener<C>) => void;
