/**
 * The accept loops (Ranch's `ranch_acceptor`): take a slot, accept, hand the
 * socket to the supervisor, loop. An acceptor never runs protocol code.
 *
 * @module
 */
import type { ConnectionMetrics } from "./connection_metrics.ts";
import type { ConnectionSupervisor } from "./connection_supervisor.ts";
import { systemErrorCode } from "./errors.ts";
import type { Logger } from "./logger.ts";
import { AcceptQueue, type ParkedAcceptor } from "./socket/accept_queue.ts";
import type { ListenSocket, Socket, Transport } from "./transport.ts";

/** How long acceptors pause when the process is out of descriptors or buffers. */
const RESOURCE_BACKOFF_MS = 100;

/**
 * What an accept error means for the loop, by code. Anything not listed is
 * unexpected: it is logged as a warning and the loop backs off, so an error
 * nobody foresaw can neither kill the acceptor nor make it spin.
 */
const ACCEPT_ERRORS: Readonly<Record<string, "stop" | "back off" | "retry">> = {
  // Our listen socket was closed (suspend, stop): this loop is over.
  ECLOSED: "stop",
  // Out of descriptors (process, system) or kernel memory: retrying at once
  // would spin, so wait for connections to close.
  EMFILE: "back off",
  ENFILE: "back off",
  ENOBUFS: "back off",
  ENOMEM: "back off",
  // The client left between the kernel's handshake and our accept() (Deno reports ENOTCONN:
  // its accept() also asks for the peer's address, which a reset connection no longer has).
  ECONNABORTED: "retry",
  ECONNRESET: "retry",
  ENOTCONN: "retry",
  // Network errors accept(2) reports for the pending connection, which it
  // says to treat like EAGAIN; and a firewall rule refusing this one client.
  EPROTO: "retry",
  ENETDOWN: "retry",
  ENETUNREACH: "retry",
  EHOSTDOWN: "retry",
  EHOSTUNREACH: "retry",
  ENONET: "retry",
  ENOPROTOOPT: "retry",
  EOPNOTSUPP: "retry",
  EPERM: "retry",
  ETIMEDOUT: "retry",
  // Interrupted, or woken with nothing to take after all.
  EINTR: "retry",
  EAGAIN: "retry",
};

/** `#accept()` found the listen socket closed. */
const LISTEN_SOCKET_CLOSED: unique symbol = Symbol("listen socket closed");

/** A parked acceptor started connections until no slot was free: it waits for `admitted` now. */
class NoSlot {
  readonly admitted: Promise<boolean>;
  constructor(admitted: Promise<boolean>) {
    this.admitted = admitted;
  }
}

/** What one accept gave: a socket, `undefined` to try again, the listen socket's end, or (parked) `NoSlot`. */
type Accepted = Socket | undefined | typeof LISTEN_SOCKET_CLOSED | NoSlot;

/** A listener's accept loops over its listen sockets, until `close()`. */
export class AcceptorPool<L> {
  #closed = false;
  #exhausted = false; // warned about resource exhaustion; quiet until an accept succeeds
  #wake: (() => void) | undefined;
  #backoff: Promise<void> | undefined;
  #loops: Promise<void>[] = [];
  #ref: string;
  #logger: Logger;
  /** Counts and publishes the accept errors the loops get over. */
  #metrics: ConnectionMetrics<L>;

  constructor(
    sockets: readonly ListenSocket[],
    numAcceptors: number,
    transport: Transport,
    supervisor: ConnectionSupervisor<L>,
    logger: Logger,
  ) {
    this.#ref = supervisor.ref;
    this.#logger = logger;
    this.#metrics = supervisor.metrics;
    for (let i = 0; i < numAcceptors; i++) {
      this.#loops.push(this.#run(sockets[i % sockets.length]!, transport, supervisor));
    }
  }

  /** Ends every loop (their listen sockets are being closed by the listener). */
  async close(): Promise<void> {
    this.#closed = true;
    this.#wake?.();
    await Promise.all(this.#loops);
  }

  /** Admit, accept, hand over, loop: the acceptor never runs protocol code. */
  async #run(listenSocket: ListenSocket, transport: Transport, supervisor: ConnectionSupervisor<L>): Promise<void> {
    // Node.js, Bun and the memory transport push connections into a queue: wait there parked.
    const parked = listenSocket instanceof AcceptQueue ? this.#parking(listenSocket, transport, supervisor) : undefined;
    let admitted = supervisor.admit(); // waits while maxConnections are running
    for (;;) {
      if (admitted !== true && !(await admitted)) return;
      const socket: Accepted = this.#closed
        ? LISTEN_SOCKET_CLOSED
        : await (parked !== undefined ? parked() : this.#accept(listenSocket));
      if (socket instanceof NoSlot) {
        admitted = socket.admitted;
        continue;
      }
      if (typeof socket !== "object" || this.#closed) {
        supervisor.withdraw();
        if (typeof socket === "object") socket.destroy();
        if (socket === LISTEN_SOCKET_CLOSED || this.#closed) return;
      } else supervisor.start(socket, transport);
      admitted = supervisor.admit();
    }
  }

  /** One accept: the socket, `undefined` to try again, or `LISTEN_SOCKET_CLOSED`. */
  async #accept(listenSocket: ListenSocket): Promise<Accepted> {
    try {
      const socket = await listenSocket.accept();
      this.#exhausted = false;
      return socket;
    } catch (error) {
      return await this.#failed(error);
    }
  }

  /**
   * A wait in a push-mode queue, holding a slot: each connection that arrives
   * is started at once, from the runtime's connection callback, for as long
   * as slots are free. No promise or microtask stands between the runtime and
   * the protocol; the wait settles (like `#accept()`) only when it must end:
   * no slot is free (`NoSlot`), accepting failed, or the pool closed (with the
   * socket that came too late).
   */
  #parking(queue: AcceptQueue, transport: Transport, supervisor: ConnectionSupervisor<L>): () => Promise<Accepted> {
    let wake!: (accepted: Accepted | Promise<Accepted>) => void;
    const acceptor: ParkedAcceptor = {
      take: (socket) => {
        // Sockets pushed while a protocol starts wait in the queue: park() hands them over next.
        for (let next: Socket | undefined = socket; next !== undefined; next = queue.park(acceptor)) {
          if (this.#closed) return wake(next);
          this.#exhausted = false;
          supervisor.start(next, transport);
          const admitted = supervisor.admit();
          if (admitted !== true) return wake(new NoSlot(admitted));
        }
      },
      fail: (error) => wake(this.#failed(error)),
    };
    const park = (resolve: typeof wake) => {
      wake = resolve;
      const socket = queue.park(acceptor);
      if (socket !== undefined) acceptor.take(socket);
    };
    return () => new Promise(park);
  }

  /** What an accept error means: `undefined` to try again (after a back-off), or `LISTEN_SOCKET_CLOSED`. */
  async #failed(error: unknown): Promise<undefined | typeof LISTEN_SOCKET_CLOSED> {
    const code = systemErrorCode(error);
    const meaning = code === undefined ? undefined : ACCEPT_ERRORS[code];
    if (meaning === "stop") return LISTEN_SOCKET_CLOSED;
    this.#metrics.acceptFailed(code, error, meaning === "retry" ? "retry" : "backoff");
    if (meaning === "retry") {
      this.#logger.debug(`corral: [${this.#ref}] accept failed with ${code}, continuing`, error);
      return undefined;
    }
    // Warned once per episode: an exhausted process would otherwise log at every retry.
    if (!this.#exhausted) {
      this.#exhausted = true;
      const what = meaning === "back off" ? `with ${code}` : "unexpectedly";
      this.#logger.warn(`corral: [${this.#ref}] accept failed ${what}; backing off ${RESOURCE_BACKOFF_MS} ms`, error);
    }
    await this.#pause();
    return undefined;
  }

  /** One shared back-off for all loops, cut short by `close()`. */
  #pause(): Promise<void> {
    this.#backoff ??= new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        this.#backoff = undefined;
        resolve();
      };
      const timer = setTimeout(done, RESOURCE_BACKOFF_MS);
      this.#wake = done;
    });
    return this.#backoff;
  }
}
