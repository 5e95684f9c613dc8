/**
 * The accept loops (Ranch's `ranch_acceptor`): take a slot, accept, hand the
 * socket to the supervisor, loop. An acceptor never runs protocol code.
 *
 * @module
 */
import type { ConnectionSupervisor } from "./connection_supervisor.ts";
import { systemErrorCode } from "./errors.ts";
import type { Logger } from "./listen_options.ts";
import type { ListenSocket, Transport } from "./transport.ts";

/** How long acceptors pause when the process is out of descriptors or buffers. */
const RESOURCE_BACKOFF_MS = 100;

/** A listener's accept loops over its listen sockets, until `close()`. */
export class AcceptorPool {
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
    supervisor: ConnectionSupervisor,
    ref: string,
    logger: Logger,
  ) {
    this.#ref = ref;
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

  async #run(socket: ListenSocket, transport: Transport, supervisor: ConnectionSupervisor): Promise<void> {
    while (!this.#closed) {
      if (!supervisor.tryReserve() && !(await supervisor.reserve())) return;
      if (this.#closed) return supervisor.unreserve();
      let accepted;
      try {
        accepted = await socket.accept();
      } catch (error) {
        supervisor.unreserve();
        const code = systemErrorCode(error);
        switch (code) {
          case "ECLOSED": // our listen socket was closed: suspend or stop
            return;
          case "EMFILE":
          case "ENFILE":
          case "ENOBUFS":
          case "ENOMEM":
            // Out of descriptors or buffers: retrying at once would spin, so
            // warn once per episode and give other connections time to close.
            if (!this.#exhausted) {
              this.#exhausted = true;
              this.#logger.warn(
                `corral: [${this.#ref}] accept failed with ${code}; backing off ${RESOURCE_BACKOFF_MS} ms`,
              );
            }
            await this.#pause();
            continue;
          default: // a connection that died before we took it (ECONNABORTED ...)
            this.#logger.debug(`corral: [${this.#ref}] accept failed, continuing`, error);
            continue;
        }
      }
      this.#exhausted = false;
      if (this.#closed) {
        supervisor.unreserve();
        accepted.destroy();
        return;
      }
      supervisor.start(accepted, transport);
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
