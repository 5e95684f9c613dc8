/**
 * Worker mode's public types: the options of `startWorkers()`, the pool it
 * returns, what `pool.info()` reports, and what a worker's module receives
 * from `serveWorker()`.
 *
 * @module
 */
import type { ConnectionCounters } from "../supervisor_options.ts";
import type { ListenerInfo } from "../listener_info.ts";
import type { Logger } from "../logger.ts";

/** Options of `startWorkers()`. */
export interface StartWorkersOptions<D = unknown> {
  /**
   * The ES module each worker thread runs: it calls `serveWorker()`, whose
   * start function calls `listen()` with `tcp({ port, reusePort: true })`.
   * A `URL` or an absolute URL string, such as `new URL("./worker.ts", import.meta.url)`.
   */
  module: string | URL;
  /** Worker threads, 1 to 1024. Default: the runtime's available parallelism (cores). */
  count?: number;
  /** Handed to every worker's start function as `data` (structured-cloned: plain data, no functions). */
  data?: D;
  /** The port the first worker is asked to bind, 0 to 65535; 0 (the default) picks a free one. */
  port?: number;
  /** Ms a worker has to report ready (its start function resolved) before it counts as failed. Default 10,000. */
  startTimeout?: number;
  /** Where crashes and restarts are reported. Default `console`. */
  logger?: Logger;
}

/**
 * Where a worker is in its life: `"starting"` until its start function
 * resolved, `"running"`, `"restarting"` from a crash until the next start
 * (a back-off), `"stopping"` and `"stopped"` from `pool.stop()` on.
 */
export type WorkerStatus = "starting" | "running" | "restarting" | "stopping" | "stopped";

/** One worker of a pool, seen from the thread that started it. */
export interface PoolWorker {
  /** 1 to `count`; a restarted worker keeps its id. */
  readonly id: number;
  /** Where the worker is in its life. */
  readonly status: WorkerStatus;
  /** How many times it was started again after a crash. */
  readonly restarts: number;
  /**
   * Ends the worker's thread at once, as a crash would (its connections
   * are cut, nothing drains); the pool logs it and starts it again after the
   * back-off. For a worker stuck in a busy loop, which `reusePort` keeps
   * sending its share of connections. Does nothing once the pool is stopping.
   *
   * @returns Resolves once the thread has ended (the worker is then `"restarting"`). Its listen socket is
   * closed by the runtime as it tears the thread down: on Deno and Bun that can be a moment (milliseconds)
   * after this resolves, and a connection the kernel hands that socket meanwhile is reset.
   */
  kill(): Promise<void>;
}

/** One worker in `pool.info()`. */
export interface WorkerInfo {
  /** 1 to `count`. */
  id: number;
  /** Where the worker is in its life. */
  status: WorkerStatus;
  /** Restarts after crashes so far. */
  restarts: number;
  /**
   * Whether the worker answered: `false` when it is not running or did not
   * answer within a second (its event loop is blocked).
   */
  responsive: boolean;
  /** `listener.info()` of every listener running in the worker's thread (empty unless it answered). */
  listeners: ListenerInfo[];
}

/**
 * `pool.info()`: every worker's listeners, and their connection counters
 * summed. A worker that crashed starts again from zero: its counts before
 * the crash are gone.
 */
export interface WorkerPoolInfo extends ConnectionCounters {
  /** The port every worker listens on. */
  port: number;
  /** Each worker, in id order. */
  workers: WorkerInfo[];
}

/** What `startWorkers()` returns: worker threads serving one port. */
export interface WorkerPool {
  /** The port every worker listens on (the first worker's, resolved when it asked for 0). */
  readonly port: number;
  /** The workers, in id order (ids 1 to `count`). */
  readonly workers: readonly PoolWorker[];
  /**
   * Asks every running worker for its listeners' `info()`.
   *
   * @returns The workers' snapshots and their counters summed.
   */
  info(): Promise<WorkerPoolInfo>;
  /**
   * Stops every worker gracefully: each stops its listeners (each waits its
   * own `shutdownTimeout` for connections to finish), then its thread ends. A
   * worker waiting to restart is not started again; one that is starting is
   * stopped once it is up. Calling it again returns the same promise.
   *
   * @returns Resolves once every worker's thread has ended.
   */
  stop(): Promise<void>;
  /** `stop()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** What a worker's start function receives from `serveWorker()`. */
export interface WorkerContext<D = unknown> {
  /** This worker's id, 1 to `count` (kept across restarts). */
  id: number;
  /**
   * The port to listen on with `reusePort: true`: the pool's `port` option
   * for the first worker's first start (0: any free port), else the port the
   * first worker got.
   */
  port: number;
  /** The pool's `data` option (a structured clone). */
  data: D;
}
