/**
 * The listener (Ranch's `ranch_listener_sup`): owns its listen sockets, its
 * acceptors and its connection supervisor; status, suspend/resume, live
 * reconfiguration and stop.
 *
 * @module
 */
import { AcceptorPool } from "./acceptor.ts";
import { type ConnectionCounters, ConnectionSupervisor, type ShutdownTimeout } from "./connection_supervisor.ts";
import { ListenError, TimeoutError } from "./errors.ts";
import {
  checkListenOptions,
  checkMaxConnections,
  type ListenOptions,
  type Logger,
  type Protocol,
} from "./listen_options.ts";
import { forgetListener, getListener, registerListener } from "./listener_registry.ts";
import { describe } from "./options.ts";
import type { Address, ListenSocket, Transport } from "./transport.ts";

/** Where a listener is in its life. */
export type ListenerStatus = "running" | "suspended" | "stopped";

/** Comparisons `waitForConnections` understands. */
export type CountComparison = ">" | ">=" | "==" | "<=" | "<";

/** A snapshot of a listener (Ranch's `ranch:info/1`). */
export interface ListenerInfo extends ConnectionCounters {
  /** The listener's registry name. */
  ref: string;
  /** `"running"`, `"suspended"` or `"stopped"`. */
  status: ListenerStatus;
  /** The transport's name, such as `"tcp"`. */
  transport: string;
  /** The transport options as set. */
  transportOptions: object;
  /** Where it listens (last known while suspended or stopped). */
  address: Address | undefined;
  /** The TCP port, when there is one. */
  port: number | undefined;
  /** The connection limit. */
  maxConnections: number;
  /** Accept loops. */
  numAcceptors: number;
  /** Listen sockets. */
  numListenSockets: number;
}

const COMPARISONS: Record<CountComparison, (a: number, b: number) => boolean> = {
  ">": (a, b) => a > b,
  ">=": (a, b) => a >= b,
  "==": (a, b) => a === b,
  "<=": (a, b) => a <= b,
  "<": (a, b) => a < b,
};

let nextRef = 1;

/**
 * A running (or suspended, or stopped) listener. Made by {@linkcode listen}.
 *
 * @example Suspend, change the port, resume
 * ```ts
 * import assert from "node:assert/strict";
 * import { listen, tcp } from "../mod.ts";
 * const listener = await listen({ transport: tcp({ host: "127.0.0.1" }), protocol: () => {} });
 * await listener.suspend();
 * listener.setTransportOptions({ port: 0 });
 * await listener.resume();
 * assert(listener.status === "running");
 * await listener.stop();
 * ```
 */
export class Listener<P = unknown> {
  /** The listener's unique name in the registry. */
  readonly ref: string;
  #status: ListenerStatus = "running";
  #transport: Transport; // as the user set it
  #bound: Transport; // the same with a chosen port (or name) pinned, for resume
  #sockets: ListenSocket[] = [];
  #pool: AcceptorPool | undefined;
  #supervisor: ConnectionSupervisor;
  #address: Address | undefined;
  #numAcceptors: number;
  #numListenSockets: number;
  #shutdownTimeout: ShutdownTimeout;
  /** A PROXY header is read off each connection before the transport's handshake. */
  #plaintextFirst: boolean;
  #logger: Logger;
  #busy: Promise<unknown> = Promise.resolve(); // suspend/resume/stop run one at a time

  private constructor(ref: string, options: ReturnType<typeof checkListenOptions<P>>) {
    this.ref = ref;
    this.#logger = options.logger;
    this.#transport = this.#bound = options.transport;
    this.#numAcceptors = options.numAcceptors;
    this.#numListenSockets = options.numListenSockets;
    this.#shutdownTimeout = options.shutdownTimeout;
    this.#plaintextFirst = options.proxyHeader !== undefined;
    this.#supervisor = new ConnectionSupervisor({
      listener: this as Listener<unknown>,
      protocol: options.protocol as Protocol<unknown>,
      protocolOptions: options.protocolOptions,
      maxConnections: options.maxConnections,
      handshakeTimeout: options.handshakeTimeout,
      proxyHeader: options.proxyHeader,
      logger: options.logger,
    });
  }

  /** @internal Use {@linkcode listen}. */
  static async open<P>(options: ListenOptions<P>): Promise<Listener<P>> {
    const checked = checkListenOptions(options);
    let ref = checked.ref;
    while (ref === undefined || (checked.ref === undefined && getListener(ref) !== undefined)) {
      ref = `listener-${nextRef++}`;
    }
    const listener = new Listener<P>(ref, checked);
    if (!registerListener(ref, listener as Listener<unknown>)) {
      throw new ListenError("EREFINUSE", `listen(): a listener with ref ${JSON.stringify(ref)} is already running`);
    }
    try {
      await listener.#openSockets();
    } catch (error) {
      forgetListener(ref, listener as Listener<unknown>);
      throw error;
    }
    return listener;
  }

  /** `"running"`, `"suspended"` or `"stopped"`. */
  get status(): ListenerStatus {
    return this.#status;
  }

  /** Where the listener listens (the last address while suspended or stopped). */
  get address(): Address | undefined {
    return this.#address;
  }

  /** The TCP port it listens on (the real one when 0 was asked), or `undefined` for non-IP transports. */
  get port(): number | undefined {
    const address = this.#address;
    return address !== undefined && "port" in address ? address.port : undefined;
  }

  /** The connection limit; raising it wakes waiting acceptors, lowering it closes nothing. */
  get maxConnections(): number {
    return this.#supervisor.maxConnections;
  }

  set maxConnections(value: number) {
    this.#supervisor.maxConnections = checkMaxConnections(value);
  }

  /** The transport's options as set. */
  get transportOptions(): object {
    return this.#transport.options;
  }

  /**
   * Changes transport options (merged over the current ones). Only while
   * suspended; they apply at `resume()`.
   */
  setTransportOptions(options: object): void {
    if (this.#status !== "suspended") {
      throw new TypeError(`setTransportOptions() needs a suspended listener; ${this.ref} is ${this.#status}`);
    }
    this.#transport = this.#bound = this.#transport.withOptions(options);
  }

  /** What new connections receive as their protocol options (running ones keep theirs). */
  get protocolOptions(): P {
    return this.#supervisor.protocolOptions as P;
  }

  set protocolOptions(value: P) {
    this.#supervisor.protocolOptions = value;
  }

  /** How many connections are counted against the limit (`"active"`) or run at all (`"all"`). */
  connections(kind: "active" | "all" = "active"): number {
    if (kind !== "active" && kind !== "all") {
      throw new TypeError(`connections(kind): kind must be "active" or "all", got ${describe(kind)}`);
    }
    return this.#supervisor.count(kind);
  }

  /**
   * Resolves once the number of active connections compares to `count` as
   * `op` says; rejects with `TimeoutError` after `options.timeout` ms.
   */
  waitForConnections(op: CountComparison, count: number, options: { timeout?: number } = {}): Promise<void> {
    const compare = COMPARISONS[op];
    if (compare === undefined || !Object.hasOwn(COMPARISONS, op)) {
      return Promise.reject(
        new TypeError(`waitForConnections(op): op must be one of > >= == <= <, got ${describe(op)}`),
      );
    }
    if (typeof count !== "number" || !Number.isInteger(count) || count < 0) {
      return Promise.reject(
        new RangeError(`waitForConnections(count): count must be an integer >= 0, got ${describe(count)}`),
      );
    }
    const timeout = options.timeout ?? Infinity;
    const { done, cancel } = this.#supervisor.watch(() => compare(this.#supervisor.count("active"), count));
    if (timeout === Infinity) return done;
    let timer: ReturnType<typeof setTimeout>;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        cancel();
        const now = this.#supervisor.count("active");
        reject(new TimeoutError(`waitForConnections(${op} ${count}) timed out after ${timeout} ms with ${now} active`));
      }, timeout);
    });
    return Promise.race([done, expired]).finally(() => clearTimeout(timer));
  }

  /** A snapshot of the listener and its counters. */
  info(): ListenerInfo {
    return {
      ref: this.ref,
      status: this.#status,
      transport: this.#transport.name,
      transportOptions: this.#transport.options,
      address: this.#address,
      port: this.port,
      maxConnections: this.maxConnections,
      numAcceptors: this.#numAcceptors,
      numListenSockets: this.#numListenSockets,
      ...this.#supervisor.counters,
    };
  }

  /** Closes the listen sockets; connections carry on, new connects are refused. */
  suspend(): Promise<void> {
    return this.#serially(async () => {
      if (this.#status !== "running") return;
      this.#status = "suspended";
      await this.#closeSockets();
    });
  }

  /** Listens again with the current transport options (the same port when one was chosen). */
  resume(): Promise<void> {
    return this.#serially(async () => {
      if (this.#status !== "suspended") return;
      await this.#openSockets();
      this.#status = "running";
    });
  }

  /**
   * Stops listening, aborts every connection's `signal`, waits up to
   * `shutdownTimeout` for the protocols to end, then closes what is left.
   * Resolves `false` when the listener was already stopped.
   */
  stop(): Promise<boolean> {
    return this.#serially(async () => {
      if (this.#status === "stopped") return false;
      this.#status = "stopped";
      await this.#closeSockets();
      await this.#supervisor.shutdown(this.#shutdownTimeout);
      forgetListener(this.ref, this as Listener<unknown>);
      return true;
    });
  }

  /** `await using listener = await listen(...)` stops it at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
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
    this.#pool = new AcceptorPool(
      sockets,
      this.#numAcceptors,
      this.#transport,
      this.#supervisor,
      this.ref,
      this.#logger,
    );
  }

  async #closeSockets(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    const closing = pool?.close();
    this.#supervisor.releaseAcceptors();
    await Promise.all(this.#sockets.splice(0).map((socket) => socket.close()));
    await closing;
  }
}

/** A transport that binds where `address` is, when its options left the choice open. */
function pin(transport: Transport, address: Address): Transport {
  const options = transport.options as { port?: number; name?: string };
  if ("port" in address && !options.port) return transport.withOptions({ port: address.port });
  if ("name" in address && options.name === undefined) return transport.withOptions({ name: address.name });
  return transport;
}

/**
 * Starts a listener (Ranch's `ranch:start_listener`): opens its listen
 * socket(s), starts `numAcceptors` accept loops, and runs `protocol` once
 * per connection.
 *
 * @example An echo server
 * ```ts
 * import assert from "node:assert/strict";
 * import { listen, tcp } from "../mod.ts";
 * const listener = await listen({
 *   ref: "doc-echo",
 *   transport: tcp({ host: "127.0.0.1", port: 0 }),
 *   protocol: async (conn) => {
 *     const socket = await conn.handshake();
 *     for await (const chunk of socket) await socket.send(chunk);
 *   },
 * });
 * assert(listener.status === "running" && listener.port! > 0);
 * await listener.stop();
 * ```
 */
export function listen<P = unknown>(options: ListenOptions<P>): Promise<Listener<P>> {
  try {
    return Listener.open(options);
  } catch (error) {
    return Promise.reject(error);
  }
}
