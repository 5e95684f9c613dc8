/**
 * A `ListenSocket` over a `Deno.Listener`. Deno allows one pending
 * `listener.accept()` at a time (a second one throws `Busy: Another accept
 * task is ongoing`), while Corral runs several acceptors on one listen
 * socket: acceptors queue here and one pump calls the underlying `accept()`
 * for them, one at a time, only while some acceptor waits.
 *
 * @module
 */
import { ClosedError } from "../../errors.ts";
import type { Address, ListenSocket, Socket } from "../../transport.ts";
import { withSystemCode } from "./deno_errors.ts";
import type { DenoConn, DenoListener } from "./deno_types.ts";
import { soleListeningDescriptor } from "./listener_fd.ts";
import { toAddress } from "./net_address.ts";

function ignore(): void {}

interface Waiter {
  resolve: (socket: Socket) => void;
  reject: (error: unknown) => void;
}

/**
 * Pull-based: a connection is taken from the kernel only when an acceptor
 * asks, so connections nobody asked for stay in the kernel's backlog.
 */
export class DenoListenSocket<C extends DenoConn = DenoConn> implements ListenSocket {
  readonly address: Address;
  #listener: DenoListener<C>;
  /** Turns an accepted conn into what the acceptors get (TCP options, TLS pending state ...). */
  #wrap: (conn: C) => Socket;
  #waiting: Waiter[] = [];
  #pumping = false;
  #closed = false;
  /** The underlying `accept()` in flight, if any. */
  #inflight: Promise<C> | undefined;

  constructor(listener: DenoListener<C>, wrap: (conn: C) => Socket) {
    this.#listener = listener;
    this.#wrap = wrap;
    this.address = toAddress(listener.addr);
  }

  /**
   * The descriptor, found through `/proc` (Deno does not expose it): only
   * when it is the one TCP socket of this process listening on this port,
   * else `undefined` (several `reusePort` sockets cannot be told apart).
   */
  get fd(): number | undefined {
    return this.#closed || !("port" in this.address) ? undefined : soleListeningDescriptor(this.address.port);
  }

  /**
   * Resolves with the next connection. Rejects with `ClosedError` once
   * closed, or with the accept error (its `code` set, such as `"EMFILE"` or
   * `"ECONNABORTED"`) so the acceptor can decide to back off.
   */
  accept(): Promise<Socket> {
    if (this.#closed) return Promise.reject(new ClosedError("listen socket closed"));
    return new Promise<Socket>((resolve, reject) => {
      this.#waiting.push({ resolve, reject });
      if (!this.#pumping) void this.#pump();
    });
  }

  /**
   * Stops listening. Resolves once the port is released: while an
   * underlying `accept()` is pending, Deno closes the socket only when that
   * operation is cancelled, a tick after `listener.close()`; until then the
   * address is still taken and a connecting client gets reset, not refused.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const error = new ClosedError("listen socket closed");
    for (const waiter of this.#waiting.splice(0)) waiter.reject(error);
    try {
      // The pending listener.accept() (if any) rejects with BadResource; the pump then stops.
      this.#listener.close();
    } catch {
      // Already closed.
    }
    const inflight = this.#inflight;
    if (inflight !== undefined) await inflight.then(ignore, ignore);
  }

  /** Accepts one connection per waiting acceptor, in order, never two at once. */
  async #pump(): Promise<void> {
    this.#pumping = true;
    const listener = this.#listener;
    const waiting = this.#waiting;
    while (waiting.length > 0 && !this.#closed) {
      let conn: C;
      try {
        conn = await (this.#inflight = listener.accept());
      } catch (error) {
        this.#inflight = undefined;
        if (this.#closed) break;
        // One acceptor gets the error and backs off; the others keep waiting.
        waiting.shift()?.reject(withSystemCode(error));
        continue;
      }
      this.#inflight = undefined;
      const waiter = waiting.shift();
      if (this.#closed || waiter === undefined) {
        conn.close();
        break;
      }
      let socket: Socket;
      try {
        socket = this.#wrap(conn);
      } catch (error) {
        // Setting an option failed: the peer is most likely gone already.
        try {
          conn.close();
        } catch {
          // Already closed.
        }
        waiter.reject(withSystemCode(error));
        continue;
      }
      waiter.resolve(socket);
    }
    this.#pumping = false;
  }
}
