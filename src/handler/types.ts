/**
 * The callbacks a push-mode protocol is made of.
 *
 * @module
 */
import type { Connection } from "../connection.ts";
import type { Socket } from "../transport.ts";

/**
 * The callbacks of a push-mode protocol, for {@linkcode handler}. `S` is the
 * connection's state: what `connection` returns, handed to every other
 * callback. `P` is the listener's `protocolOptions`.
 *
 * A connection's life, as the callbacks see it:
 * 1. **`connection(socket, conn, options)`**, once, after `conn.handshake()`
 *    (TLS, PROXY header) succeeded. What it returns (or its promise
 *    resolves to) is the state. Bytes that arrive meanwhile wait.
 * 2. **`data(chunk, socket, state)`** for each chunk, called straight from
 *    the runtime's read path: no promise, no microtask, no async frame per
 *    chunk. The handler owns `chunk`. If `data` returns a promise, no more
 *    bytes are read or delivered until it settles. A `socket.send()` that
 *    goes over the socket's high-water mark also stops reading until the
 *    peer takes the queued bytes, so a peer that never reads cannot make the
 *    server buffer without bound. `send()`'s promise may be ignored: a
 *    failed send also closes the socket, which ends the connection.
 * 3. **`end(socket, state)`** when the peer ends its stream (EOF). The
 *    socket can still send; the connection is over when `end` returns (or
 *    its promise settles). Without `end`, the connection is over at EOF.
 * 4. **`timeout(socket, state)`**, with `idleTimeout`, when no bytes arrived
 *    for that many ms (while no promise of a callback is pending; checked
 *    once per period, so it comes after one to two periods). Without
 *    `timeout`, the connection is then over. With it, the clock starts again.
 *    This is the handler's own, soft clock: the listener's `idleTimeout`
 *    option (or `conn.setIdleTimeout`) is the hard one, and ends the
 *    connection through `shutdown` below. Received bytes reset both.
 * 5. **`shutdown(socket, state)`** when the core aborts `conn.signal`: the
 *    listener stops (`conn.signal.reason` is a `ClosedError`), or the
 *    listener's `idleTimeout` expired (a `TimeoutError`). Without it the
 *    connection runs on, as a function protocol that ignores its signal
 *    would, until `shutdownTimeout` destroys its socket.
 * 6. **`error(error, socket, state)`** when a callback throws or rejects, or
 *    the socket fails (a reset): the connection is then over, and fails
 *    with that error (logged and counted as `failed`, as for a throwing
 *    function protocol).
 * 7. **`close(socket, state)`**, once, last, however the connection ended:
 *    for bookkeeping such as leaving a `Registry`.
 *
 * Calling `socket.close()` from any callback also ends the connection.
 * Once it is over the supervisor closes the socket, as for any protocol.
 */
export interface Handler<S = undefined, P = unknown> {
  /** Makes the connection's state, once, after the handshake. */
  connection?(socket: Socket, conn: Connection<P>, options: P): S | Promise<S>;
  /** Handles one chunk of received bytes; a returned promise pauses reading until it settles. */
  data(chunk: Uint8Array, socket: Socket, state: S): void | Promise<void>;
  /** The peer ended its stream; the connection is over once this returns or settles. */
  end?(socket: Socket, state: S): void | Promise<void>;
  /** No bytes arrived for `idleTimeout` ms. Without it, such a connection is closed. */
  timeout?(socket: Socket, state: S): void | Promise<void>;
  /** The listener is stopping: finish up (the socket is destroyed after `shutdownTimeout`). */
  shutdown?(socket: Socket, state: S): void | Promise<void>;
  /** A callback threw or rejected, or the socket failed; the connection is over. */
  error?(error: unknown, socket: Socket, state: S): void;
  /** The connection is over, however it ended; called once, last. */
  close?(socket: Socket, state: S): void;
  /**
   * Ms without received bytes before `timeout` is called (or the connection
   * closed). Default: none. Independent of the listener's `idleTimeout`,
   * which aborts `conn.signal` (calling `shutdown`) when it expires.
   */
  idleTimeout?: number;
}
