/**
 * The accept loops (Ranch's `ranch_acceptor`): take a slot, accept, hand the
 * socket to the supervisor, loop. An acceptor never runs protocol code.
 *
 * @module
 */
import type { ConnectionSupervisor } from "./connection_supervisor.ts";
import { systemErrorCode } from "./errors.ts";
import type { Logger } from "./logger.ts";
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

/** A listener's accept loops over its listen sockets, until `close()`. */
export class AcceptorPool<L> {
  #closed = false;
  #exhausted = false; // warned about resource exhaustion; quiet until an accept succeeds
  #wake: (() => void) | undefined;
  #backoff: Promise<void> | undefined;
  #loops: Promise<void>[] = [];
  #ref: string;
  #logger: Logger;

  constructor(
    sockets: readonly ListenSocket[],
    numAcceptors: number,
    transport: Transport,
    supervisor: ConnectionSupervisor<L>,
    logger: Logger,
  ) {
    this.#ref = supervisor.ref;
    this.#logger = logger;
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
    while (!this.#closed) {
      const admitted = supervisor.admit(); // waits while maxConnections are running
      if (admitted !== true && !(await admitted)) return;
      const socket = this.#closed ? LISTEN_SOCKET_CLOSED : await this.#accept(listenSocket);
      if (typeof socket !== "object" || this.#closed) {
        supervisor.withdraw();
        if (typeof socket === "object") socket.destroy();
        if (socket === LISTEN_SOCKET_CLOSED) return;
        continue;
      }
      supervisor.start(socket, transport);
    }
  }

  /** One accept: the socket, `undefined` to try again, or `LISTEN_SOCKET_CLOSED`. */
  async #accept(listenSocket: ListenSocket): Promise<Socket | undefined | typeof LISTEN_SOCKET_CLOSED> {
    try {
      const socket = await listenSocket.accept();
      this.#exhausted = false;
      return socket;
    } catch (error) {
      const code = systemErrorCode(error);
      const meaning = code === undefined ? undefined : ACCEPT_ERRORS[code];
      if (meaning === "stop") return LISTEN_SOCKET_CLOSED;
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
