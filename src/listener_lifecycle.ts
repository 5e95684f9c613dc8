/**
 * What a listener is behind its public face: its status, its listen sockets
 * and acceptors, its connection supervisor, and the start, suspend, resume
 * and stop steps, run one at a time. `Listener` checks arguments, documents,
 * and hands every call here.
 *
 * @module
 */
import { AcceptorPool } from "./acceptor.ts";
import type { Alarms } from "./alarms.ts";
import { ConnectionSupervisor } from "./connection_supervisor.ts";
import type { ShutdownTimeout, SupervisedProtocol } from "./supervisor_options.ts";
import type { ListenerInfo, ListenerStatus } from "./listener_info.ts";
import type { Logger } from "./logger.ts";
import type { ProxyHeaderReading } from "./proxy/reader.ts";
import type { Address, ListenSocket, Transport } from "./transport.ts";
import { announce } from "./telemetry/listener_events.ts";

/** What `listen()` hands a new listener `L`: its checked options, with the protocol as the supervisor runs it. */
export interface LifecycleInit<L> {
  ref: string;
  transport: Transport;
  protocol: SupervisedProtocol<L>;
  protocolOptions: unknown;
  numAcceptors: number;
  numListenSockets: number;
  maxConnections: number;
  handshakeTimeout: number;
  shutdownTimeout: ShutdownTimeout;
  proxyHeader: ProxyHeaderReading | undefined;
  logger: Logger;
  idleTimeout: number;
  alarms: Alarms<L> | undefined;
  /** Called before the listen sockets open (it enters the registry); may throw to refuse. */
  register: (listener: L) => void;
  /** Called once the listener has stopped, or failed to open (it leaves the registry). */
  unregister: (listener: L) => void;
}

/** What the lifecycle reports about, and hands to its supervisor as the connections' listener. */
interface Owner {
  readonly ref: string;
  readonly address: Address | undefined;
}

/** A listener's state and the steps of its life; `L` is the `Listener` it serves. */
export class ListenerLifecycle<L extends Owner> {
  readonly supervisor: ConnectionSupervisor<L>;
  status: ListenerStatus = "running";
  /** The transport as the user set it. */
  transport: Transport;
  #bound: Transport; // the same with a chosen port (or name) pinned, for resume
  #sockets: ListenSocket[] = [];
  #pool: AcceptorPool<L> | undefined;
  #address: Address | undefined;
  #listener: L;
  #numAcceptors: number;
  #numListenSockets: number;
  #shutdownTimeout: ShutdownTimeout;
  /** A PROXY header is read off each connection before the transport's handshake. */
  #plaintextFirst: boolean;
  #logger: Logger;
  #busy: Promise<unknown> = Promise.resolve(); // suspend/resume/stop run one at a time
  #unregister: (listener: L) => void;

  constructor(listener: L, init: LifecycleInit<L>) {
    this.#listener = listener;
    this.#logger = init.logger;
    this.transport = this.#bound = init.transport;
    this.#numAcceptors = init.numAcceptors;
    this.#numListenSockets = init.numListenSockets;
    this.#shutdownTimeout = init.shutdownTimeout;
    this.#plaintextFirst = init.proxyHeader !== undefined;
    this.#unregister = init.unregister;
    this.supervisor = new ConnectionSupervisor({ ...init, listener });
  }

  /** Where the listener listens (the last address while suspended or stopped). */
  get address(): Address | undefined {
    return this.#address;
  }

  /** The TCP port of `address`, or `undefined` for non-IP transports. */
  get port(): number | undefined {
    const address = this.#address;
    return address !== undefined && "port" in address ? address.port : undefined;
  }

  /** The open listen sockets (for `handover()`). */
  get sockets(): readonly ListenSocket[] {
    return this.#sockets;
  }

  /** Merges `options` over the transport's; only while suspended. */
  setTransportOptions(options: object): void {
    if (this.status !== "suspended") {
      throw new TypeError(
        `setTransportOptions() needs a suspended listener; ${this.#listener.ref} is ${this.status}`,
      );
    }
    this.transport = this.#bound = this.transport.withOptions(options);
  }

  /** Opens the listen sockets for the first time; the caller unregisters the listener if it throws. */
  async start(): Promise<void> {
    await this.#openSockets();
    announce("start", this.#listener, this.transport.name);
  }

  /** The snapshot `Listener.info()` returns. */
  info(): ListenerInfo {
    const supervisor = this.supervisor;
    return {
      ref: this.#listener.ref,
      status: this.status,
      transport: this.transport.name,
      transportOptions: this.transport.options,
      address: this.#address,
      port: this.port,
      maxConnections: supervisor.maxConnections,
      numAcceptors: this.#numAcceptors,
      numListenSockets: this.#numListenSockets,
      ...supervisor.counters,
      ...supervisor.metrics.traffic(supervisor.running()),
      acceptErrors: supervisor.metrics.acceptErrors,
      idleTimeout: supervisor.idleTimeout,
    };
  }

  suspend(): Promise<void> {
    return this.#serially(async () => {
      if (this.status !== "running") return;
      this.status = "suspended";
      await this.#closeSockets();
      announce("suspend", this.#listener, this.transport.name);
    });
  }

  resume(): Promise<void> {
    return this.#serially(async () => {
      if (this.status !== "suspended") return;
      await this.#openSockets();
      this.status = "running";
      announce("resume", this.#listener, this.transport.name);
    });
  }

  stop(): Promise<boolean> {
    return this.#serially(async () => {
      if (this.status === "stopped") return false;
      this.status = "stopped";
      await this.#closeSockets();
      await this.supervisor.shutdown(this.#shutdownTimeout);
      this.#unregister(this.#listener);
      announce("stop", this.#listener, this.transport.name);
      return true;
    });
  }

  #serially<T>(step: () => Promise<T>): Promise<T> {
    const next = this.#busy.then(step);
    this.#busy = next.catch(() => {});
    return next;
  }

  async #openSockets(): Promise<void> {
    const sockets: ListenSocket[] = [];
    let transport = this.#bound;
    try {
      for (let i = 0; i < this.#numListenSockets; i++) {
        const socket = await transport.listen({ plaintextFirst: this.#plaintextFirst });
        sockets.push(socket);
        // Later sockets (and a resume) bind where the first one landed.
        if (i === 0) transport = pin(transport, socket.address);
      }
    } catch (error) {
      await Promise.all(sockets.map((socket) => socket.close()));
      throw error;
    }
    this.#bound = transport;
    this.#sockets = sockets;
    this.#address = sockets[0]!.address;
    this.#pool = new AcceptorPool(sockets, this.#numAcceptors, this.transport, this.supervisor, this.#logger);
  }

  async #closeSockets(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    const closing = pool?.close();
    this.supervisor.releaseAcceptors();
    await Promise.all(this.#sockets.splice(0).map((socket) => socket.close()));
    await closing;
  }
}

/** A transport that binds where `address` is, when its options left the choice open. */
function pin(transport: Transport, address: Address): Transport {
  const options = transport.options as { port?: number; name?: string; fd?: number };
  if (options.fd !== undefined) return transport; // an inherited descriptor: bound before this process began
  if ("port" in address && !options.port) return transport.withOptions({ port: address.port });
  if ("name" in address && options.name === undefined) return transport.withOptions({ name: address.name });
  return transport;
}
