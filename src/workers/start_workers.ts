/**
 * Worker mode: one port served from several threads. Each worker thread runs
 * the same module, which listens on the port with `reusePort`, and the
 * kernel spreads new connections across their listen sockets.
 *
 * @module
 */
import type { ConnectionCounters } from "../supervisor_options.ts";
import { UnsupportedError } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { describe, integerOption, rejectUnknownOptions } from "../options.ts";
import { runtimeAdapter, runtimeThreads } from "../runtime/detect.ts";
import { WorkerSlot } from "./_worker_slot.ts";
import type { ThreadRuntime } from "./threads.ts";
import { WorkerError } from "./worker_error.ts";
import type { PoolWorker, StartWorkersOptions, WorkerPool, WorkerPoolInfo } from "./worker_types.ts";

const KNOWN_OPTIONS = ["module", "count", "data", "port", "startTimeout", "logger"] as const;
const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
/** setTimeout's largest delay. */
const MAX_TIMEOUT = 2 ** 31 - 1;

/**
 * Starts `count` worker threads that serve one port: each imports `module`,
 * whose {@linkcode serveWorker} start function calls `listen()` with
 * `tcp({ port, reusePort: true })`. The first worker binds the port (0
 * picks a free one); the others bind the port it got. A worker that crashes
 * is logged and started again after a back-off (100 ms, doubling to 5 s)
 * while the others keep serving.
 *
 * Before any thread starts, `reusePort` is tried in this thread, so a
 * runtime without it fails here, not in a worker.
 *
 * @param options `module` (required), `count`, `data`, `port`, `startTimeout`, `logger`.
 * @returns The running pool, once every worker reported ready.
 * @throws {TypeError} When an option is unknown or has the wrong type, such as a `module` that is not a URL, or
 * `data` that cannot be structured-cloned (the promise rejects).
 * @throws {RangeError} When `count`, `port` or `startTimeout` is out of range.
 * @throws {UnsupportedError} When this runtime cannot share a port between listen sockets (`reusePort`):
 * Node.js before 22.12.
 * @throws {WorkerError} When a worker failed to start (its module or start function threw, or its thread
 * exited); the workers already started are stopped.
 * @throws {TimeoutError} When a worker did not report ready within `startTimeout`.
 *
 * @example Two echo workers on one port
 * ```ts
 * import assert from "node:assert/strict";
 * import { startWorkers, tcp, UnsupportedError } from "../../mod.ts";
 * // examples/echo_worker.ts calls serveWorker(({ port, data }) => listen({ transport: tcp({ host: data.host,
 * // port, reusePort: true }), protocol: echo })).
 * const module = new URL("../../examples/echo_worker.ts", import.meta.url);
 * try {
 *   const pool = await startWorkers({ module, count: 2, data: { host: "127.0.0.1" } });
 *   const client = await tcp().connect({ port: pool.port });
 *   await client.send("hi");
 *   assert(new TextDecoder().decode((await client.recv(2))!) === "hi");
 *   await client.close();
 *   assert((await pool.info()).workers.length === 2);
 *   await pool.stop();
 * } catch (error) {
 *   // Node.js before 22.12 cannot share a port between threads.
 *   if (!(error instanceof UnsupportedError)) throw error;
 * }
 * ```
 */
export async function startWorkers<D = unknown>(options: StartWorkersOptions<D>): Promise<WorkerPool> {
  const threads = await runtimeThreads();
  const checked = checkOptions(options, threads);
  await checkReusePort();
  const pool = new Pool(checked, threads);
  await pool.start();
  return pool;
}

interface CheckedOptions {
  module: URL;
  count: number;
  data: unknown;
  port: number;
  startTimeout: number;
  logger: Logger;
}

function checkOptions(options: StartWorkersOptions<unknown>, threads: ThreadRuntime): CheckedOptions {
  if (typeof options !== "object" || options === null) {
    throw new TypeError(`startWorkers() needs an options object, got ${describe(options)}`);
  }
  rejectUnknownOptions("startWorkers()", options, KNOWN_OPTIONS);
  const logger = options.logger ?? console;
  for (const level of LOG_LEVELS) {
    if (typeof logger?.[level] !== "function") {
      throw new TypeError(
        `startWorkers() option logger must have ${LOG_LEVELS.join(", ")} methods; ${level} is missing`,
      );
    }
  }
  try {
    structuredClone(options.data);
  } catch (error) {
    throw new TypeError(
      `startWorkers() option data must be structured-cloneable (plain data, no functions): ${(error as Error).message}`,
      { cause: error },
    );
  }
  return {
    module: moduleUrl(options.module),
    count: integerOption("startWorkers() option count", options.count, 1, 1024, threads.availableParallelism()),
    data: options.data,
    port: integerOption("startWorkers() option port", options.port, 0, 65535, 0),
    startTimeout: integerOption("startWorkers() option startTimeout", options.startTimeout, 1, MAX_TIMEOUT, 10_000),
    logger,
  };
}

function moduleUrl(module: unknown): URL {
  if (module instanceof URL) return module;
  if (typeof module === "string" && URL.canParse(module)) return new URL(module);
  throw new TypeError(
    "startWorkers() option module must be a URL or an absolute URL string, such as " +
      `new URL("./worker.ts", import.meta.url); got ${describe(module)}`,
  );
}

/**
 * Opens and closes a `reusePort` listen socket on 127.0.0.1 here, in the
 * main thread: a runtime that lacks it throws `UnsupportedError` now rather
 * than in every worker (and Deno, asked for it inside a worker without
 * `--unstable-net`, would end the whole process with status 70).
 */
async function checkReusePort(): Promise<void> {
  const adapter = await runtimeAdapter();
  try {
    const socket = await adapter.listenTcp({
      host: "127.0.0.1",
      port: 0,
      backlog: 1,
      reusePort: true,
      noDelay: true,
      keepAlive: false,
    });
    await socket.close();
  } catch (error) {
    if (!(error instanceof UnsupportedError)) throw error;
    const prefix = `${error.option} is not supported on ${error.runtime}: `;
    const why = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
    throw new UnsupportedError(
      "startWorkers",
      error.runtime,
      `worker threads share one port through reusePort: ${why}`,
    );
  }
}

class Pool implements WorkerPool {
  readonly workers: readonly PoolWorker[];
  #slots: WorkerSlot[];
  #port: number | undefined;
  #stopping: Promise<void> | undefined;

  constructor(options: CheckedOptions, threads: ThreadRuntime) {
    const config = {
      module: options.module,
      data: options.data,
      threads,
      logger: options.logger,
      startTimeout: options.startTimeout,
      port: () => this.#port ?? options.port,
    };
    this.#slots = Array.from({ length: options.count }, (_, i) => new WorkerSlot(i + 1, config));
    this.workers = Object.freeze([...this.#slots]);
  }

  get port(): number {
    return this.#port!;
  }

  /** The first worker binds; the others bind the port it reported. */
  async start(): Promise<void> {
    const [first, ...rest] = this.#slots;
    try {
      const port = await first!.start();
      if (port === undefined) {
        throw new WorkerError(
          1,
          "worker 1's start function returned a listener without a TCP port: the workers share a port",
        );
      }
      this.#port = port;
      await Promise.all(rest.map((slot) => slot.start()));
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  async info(): Promise<WorkerPoolInfo> {
    const workers = await Promise.all(this.#slots.map((slot) => slot.info()));
    const sum: ConnectionCounters = { activeConnections: 0, allConnections: 0, accepted: 0, terminated: 0, failed: 0 };
    for (const info of workers.flatMap((worker) => worker.listeners)) {
      for (const key of Object.keys(sum) as (keyof ConnectionCounters)[]) sum[key] += info[key];
    }
    return { port: this.port, ...sum, workers };
  }

  stop(): Promise<void> {
    this.#stopping ??= Promise.all(this.#slots.map((slot) => slot.stop())).then(() => {});
    return this.#stopping;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.stop();
  }
}
