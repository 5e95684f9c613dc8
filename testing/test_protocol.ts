/**
 * `testProtocol`: runs a protocol over the memory transport (with its fault
 * options) against a test body, and fails when the protocol threw, leaked a
 * connection or left timers behind. It depends on no test framework, so it
 * works the same under vitest, `deno test`, `bun test` and `node:test`.
 *
 * @module
 */
import { CorralError } from "../src/errors.ts";
import { listen } from "../src/listen.ts";
import type { Listener } from "../src/listener.ts";
import type { Protocol } from "../src/listen_options.ts";
import type { Logger } from "../src/logger.ts";
import { integerOption, rejectUnknownOptions } from "../src/options.ts";
import type { Socket } from "../src/transport.ts";
import { asyncContext } from "./_async_context.ts";
import { unwatchedClearTimeout, unwatchedSetTimeout, watchTimers } from "./_timer_watch.ts";
import { memory, type MemoryConnectOptions, type MemoryFaultOptions, VirtualClock } from "../transports/memory.ts";
import { FAULT_OPTIONS, hasFaults } from "../transports/memory/faults.ts";
import { randomSeed } from "../transports/memory/seeded_random.ts";

/** Options of {@linkcode testProtocol}: the memory transport's fault options, and a few of `listen()`'s. */
export interface TestProtocolOptions<P = unknown> extends MemoryFaultOptions {
  /**
   * Each end's window in bytes, default 65536: no `recv(0)` returns more, and
   * `send()` resolves once the peer has taken all but this many bytes.
   */
  window?: number;
  /** Handed to the protocol, as `listen()` does. */
  protocolOptions?: P;
  /**
   * Ms the protocol gets to return once the body ended and its client
   * sockets closed; a connection still running then is a leak. Default 2000.
   */
  settleTimeout?: number;
  /** Where the listener logs. Default: nowhere (failures are reported by the thrown error). */
  logger?: Logger;
}

/** What the test body gets besides its client socket. */
export interface TestProtocolContext<P = unknown> {
  /** The memory listener running the protocol. */
  readonly listener: Listener<P>;
  /** The seed the faults were drawn from (pass it back as `seed` to replay). */
  readonly seed: number;
  /**
   * Opens another client connection, closed at the end like the first; its options override the listener's.
   *
   * @param options Fault options and `window` for this connection only.
   * @returns The connected client socket.
   * @throws {TypeError} When an option is unknown or has the wrong type.
   * @throws {RangeError} When an option is out of range.
   */
  connect(options?: Omit<MemoryConnectOptions, "name">): Promise<Socket>;
}

/**
 * `testProtocol` found a problem besides (or as well as) a failing test
 * body: the protocol threw, leaked a connection or left timers behind.
 * Code `"ETESTPROTOCOL"`.
 *
 * @example A protocol that throws fails the test
 * ```ts
 * import assert from "node:assert/strict";
 * import { testProtocol, TestProtocolError } from "./test_protocol.ts";
 * const error = await testProtocol(async (conn) => {
 *   await (await conn.handshake()).recv();
 *   throw new Error("boom");
 * }, {}, async (client) => void (await client.send("x"))).catch((e) => e);
 * assert(error instanceof TestProtocolError && error.problems[0]!.includes("boom"));
 * ```
 */
export class TestProtocolError extends CorralError {
  /** The fault seed of the run, when faults were set; pass it back as `seed` to replay. */
  readonly seed: number | undefined;
  /** One line per problem, as in the message. */
  readonly problems: readonly string[];

  /**
   * Lists `problems` in the message, with the seed to replay.
   *
   * @param problems One line per problem.
   * @param seed The run's fault seed, or `undefined` when no fault was set.
   * @param options `cause`: the body's error, or the protocol's first one.
   *
   * @example The message lists each problem
   * ```ts
   * import assert from "node:assert/strict";
   * import { TestProtocolError } from "./test_protocol.ts";
   * const error = new TestProtocolError(["1 connection leaked"], 7);
   * assert(error.code === "ETESTPROTOCOL" && error.seed === 7 && error.message.includes("- 1 connection leaked"));
   * ```
   */
  constructor(problems: string[], seed: number | undefined, options?: { cause?: unknown }) {
    const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
    super(
      "ETESTPROTOCOL",
      `testProtocol found ${count}${replayHint(seed)}:\n${problems.map((p) => `- ${p}`).join("\n")}`,
      options,
    );
    this.seed = seed;
    this.problems = problems;
  }
}

const KEYS = [...FAULT_OPTIONS, "window", "protocolOptions", "settleTimeout", "logger"];
const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Starts a memory listener running `protocol` with the fault options,
 * connects a client, runs `body(client, context)`, closes the clients,
 * waits for the protocol to return, stops the listener, and fails when:
 *
 * - the body threw (its error is rethrown, with the fault seed added to its message);
 * - the protocol threw or rejected — except with a `ClosedError` whose code
 *   is `ECONNRESET` or `EPIPE`: a reset (injected or by the client) is the
 *   network's doing, not the protocol's;
 * - a connection leaked: its protocol was still running `settleTimeout` ms
 *   after the body ended and every client socket had closed;
 * - timers were left behind: a `setTimeout` or `setInterval` that the
 *   protocol or the body made through the global functions and that had
 *   neither fired nor been cleared once everything stopped (they are
 *   cleared then), or, with a `VirtualClock` scheduler, deliveries still
 *   scheduled on it.
 *
 * Timers are told apart by async context (`AsyncLocalStorage`, which
 * Node.js, Deno and Bun implement alike): a timer counts when it was made
 * by the protocol or the body, or by anything they started (a callback, a
 * timer, an awaited call), however deep. A timer the caller makes around
 * `testProtocol` — `Promise.race([testProtocol(...), timeout])`, a
 * `withTimeout()` helper — or that another test running meanwhile makes is
 * none of its business, so several may run at once. (Without
 * `node:async_hooks` every timer made while the test ran counts.)
 *
 * @param protocol The protocol under test, run once per connection as `listen()` runs it.
 * @param options The memory transport's fault options (`seed`, `fragment`, ...), `window`, `protocolOptions`,
 * `settleTimeout` and `logger`; `{}` for a clean network.
 * @param body The test: gets a connected client socket and a {@linkcode TestProtocolContext}.
 * @returns A promise that resolves when the body passed and nothing was left behind.
 * @throws {TestProtocolError} When the protocol threw, a connection leaked or timers were left behind.
 * @throws {Error} Whatever the body threw, when that was the only problem (with the fault seed in its message).
 * @throws {TypeError} When `protocol` or `body` is not a function, or an option is unknown or has the wrong type.
 * @throws {RangeError} When an option is out of range.
 *
 * @example An echo protocol under 1 to 3 byte fragments
 * ```ts
 * import assert from "node:assert/strict";
 * import type { Protocol } from "../mod.ts";
 * import { testProtocol } from "./test_protocol.ts";
 * const echo: Protocol = async (conn) => {
 *   const socket = await conn.handshake();
 *   for await (const chunk of socket) await socket.send(chunk);
 * };
 * await testProtocol(echo, { fragment: { max: 3 } }, async (client) => {
 *   await client.send("hello");
 *   assert(new TextDecoder().decode((await client.recv(5))!) === "hello");
 * });
 * ```
 */
export async function testProtocol<P = unknown>(
  protocol: Protocol<P>,
  options: TestProtocolOptions<P>,
  body: (client: Socket, context: TestProtocolContext<P>) => Promise<void> | void,
): Promise<void> {
  if (typeof protocol !== "function") throw new TypeError("testProtocol(protocol): protocol must be a function");
  if (typeof body !== "function") throw new TypeError("testProtocol(body): body must be a function");
  if (typeof options !== "object" || options === null) {
    throw new TypeError("testProtocol(options): options must be an object");
  }
  rejectUnknownOptions("testProtocol()", options, KEYS);
  const settleTimeout = integerOption(
    "testProtocol() option settleTimeout",
    options.settleTimeout,
    0,
    2 ** 31 - 1,
    2000,
  );
  const { protocolOptions, settleTimeout: _, logger, ...transportOptions } = options;
  const seed = options.seed ?? randomSeed();
  const reportedSeed = hasFaults(options) ? seed : undefined;
  const transport = memory({ ...transportOptions, seed });

  // This run's timers are those made under its own async context: by the protocol and the body.
  const context = await asyncContext();
  const owner = {};
  const timers = watchTimers(context === undefined ? undefined : () => context.getStore() === owner);
  const problems: string[] = [];
  const protocolErrors: unknown[] = [];
  const run = { running: 0, stopping: false, idle: undefined as (() => void) | undefined };
  const tracked: Protocol<P> = async (conn, given) => {
    run.running++;
    try {
      await protocol(conn, given);
    } catch (error) {
      if (!run.stopping && !isNetworkReset(error)) {
        protocolErrors.push(error);
        problems.push(`the protocol threw on connection ${conn.id}: ${describeError(error)}`);
      }
      throw error;
    } finally {
      run.running--;
      if (run.running === 0) run.idle?.();
    }
  };

  let listener: Listener<P> | undefined;
  const clients: Socket[] = [];
  let bodyError: unknown;
  let bodyFailed = false;
  const start = async () => {
    listener = await listen<P>({
      transport,
      protocol: tracked,
      protocolOptions: protocolOptions as P,
      logger: logger ?? quiet,
      shutdownTimeout: 0,
    });
    const name = (listener.address as { name: string }).name;
    const connect = async (extra: Omit<MemoryConnectOptions, "name"> = {}): Promise<Socket> => {
      const socket = await memory().connect({ ...extra, name });
      clients.push(socket);
      return socket;
    };
    const client = await connect();
    await body(client, { listener, seed, connect });
  };
  try {
    await (context === undefined ? start() : context.run(owner, start));
  } catch (error) {
    bodyFailed = true;
    bodyError = error;
  }

  try {
    await Promise.all(clients.map((socket) => socket.close()));
    if (!(await settled(run, settleTimeout))) {
      const count = run.running === 1 ? "1 connection" : `${run.running} connections`;
      problems.push(
        `${count} leaked: the protocol was still running ${settleTimeout} ms after the test body ended` +
          " and its client sockets closed (a protocol must return once its peer is gone)",
      );
    }
    run.stopping = true;
    await listener?.stop();
    // Sockets finish closing (and clear their timers) on the turns after stop().
    await timers.nextTurn();
    const scheduler = options.scheduler;
    if (scheduler instanceof VirtualClock && scheduler.pending > 0) {
      problems.push(
        `${scheduler.pending} delivery task(s) still scheduled on the VirtualClock (time never reached them)`,
      );
    }
    for (const timer of timers.leftBehind()) {
      problems.push(`a timer was left behind: ${timer.kind}(…, ${timer.delay}) made ${timer.origin}`);
    }
  } finally {
    timers.stop();
  }

  if (problems.length > 0) {
    if (bodyFailed) problems.push(`the test body failed: ${describeError(bodyError)}`);
    throw new TestProtocolError(problems, reportedSeed, {
      cause: bodyFailed ? bodyError : protocolErrors[0],
    });
  }
  if (bodyFailed) throw withReplayHint(bodyError, reportedSeed);
}

/** Resolves true once no protocol runs, false when `timeout` ms pass first. */
function settled(run: { running: number; idle: (() => void) | undefined }, timeout: number): Promise<boolean> {
  if (run.running === 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = unwatchedSetTimeout(() => {
      run.idle = undefined;
      resolve(false);
    }, timeout);
    run.idle = () => {
      run.idle = undefined;
      unwatchedClearTimeout(timer);
      resolve(true);
    };
  });
}

/** A reset is the network's doing: the peer (or the `reset` fault) killed the connection. */
function isNetworkReset(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof CorralError && (code === "ECONNRESET" || code === "EPIPE");
}

function replayHint(seed: number | undefined): string {
  return seed === undefined ? "" : ` (memory fault seed ${seed}; pass { seed: ${seed} } to replay)`;
}

/** Adds the seed to a failing body's error, keeping its class (so runners still show assertion diffs). */
function withReplayHint(error: unknown, seed: number | undefined): unknown {
  if (seed === undefined || !(error instanceof Error)) return error;
  const hint = `\n[testProtocol${replayHint(seed)}]`;
  const before = error.message;
  try {
    error.message = before + hint;
    if (typeof error.stack === "string" && before !== "" && error.stack.includes(before)) {
      error.stack = error.stack.replace(before, () => error.message);
    } else if (typeof error.stack === "string") {
      error.stack += hint;
    }
  } catch {
    // A frozen error keeps its message; the seed is still on transport.options.
  }
  return error;
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
