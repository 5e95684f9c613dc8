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
import { StreamSocket } from "../../stream_socket.ts";
import type { Address, ListenSocket, Socket } from "../../transport.ts";
import { ConnChannel } from "./conn_channel.ts";
import { withSystemCode } from "./deno_errors.ts";
import type { DenoConn, DenoListener, DenoTcpConn } from "./deno_types.ts";
import { toAddress } from "./net_address.ts";

/** Options applied to every accepted TCP connection. */
export interface AcceptOptions {
  noDelay: boolean;
  keepAlive: boolean;
}

function ignore(): void {}

interface Waiter {
  resolve: (socket: Socket) => void;
  reject: (error: unknown) => void;
}

/**
 * Pull-based: a connection is taken from the kernel only when an acceptor
 * asks, so connections nobody asked for stay in the kernel's backlog.
 */
export class DenoListenSocket implements ListenSocket {
  readonly address: Address;
  #listener: DenoListener;
  /** Socket options for accepted TCP connections; undefined for Unix. */
  #tcp: AcceptOptions | undefined;
  #waiting: Waiter[] = [];
  #pumping = false;
  #closed = false;
  /** The underlying `accept()` in flight, if any. */
  #inflight: Promise<DenoConn> | undefined;

  constructor(listener: DenoListener, tcp: AcceptOptions | undefined) {
    this.#listener = listener;
    this.#tcp = tcp;
    this.address = toAddress(listener.addr);
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
      let conn: DenoConn;
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

  #wrap(conn: DenoConn): Socket {
    const options = this.#tcp;
    if (options !== undefined) {
      const tcp = conn as DenoTcpConn;
      // Set explicitly: whether Deno enables TCP_NODELAY on accepted sockets is not documented.
      tcp.setNoDelay(options.noDelay);
      // Off is the kernel's default for accepted sockets, so only turning it on costs a syscall.
      if (options.keepAlive) tcp.setKeepAlive(true);
    }
    return new StreamSocket(new ConnChannel(conn, options !== undefined));
  }
}
