/**
 * The worker's side of worker mode: `serveWorker()` runs in each worker
 * thread of `startWorkers()`, starts the worker's listener(s), and answers
 * the pool.
 *
 * @module
 */
import type { Listener } from "../listener.ts";
import { listeners } from "../listener_registry.ts";
import { describe } from "../options.ts";
import { runtimeThreads } from "../runtime/detect.ts";
import { cloneableInfo, errorData, type FromWorker, isPoolMessage, type ToWorker, workerInit } from "./_messages.ts";
import type { WorkerContext } from "./worker_types.ts";

/** What a worker's start function returns: the listener whose port the workers share (first, if several). */
export type WorkerListeners = Listener<unknown> | readonly Listener<unknown>[];

/**
 * Serves one worker of a `startWorkers()` pool; call it from the worker's
 * module. It calls `start` with the worker's id, the port to bind and the
 * pool's `data`; `start` calls `listen()` with `tcp({ port, reusePort: true
 * })` (the same port in every worker) and returns the listener. Then
 * `serveWorker()` reports the listener's port to the pool, answers the
 * pool's `info()` with every listener running in this thread, and on the
 * pool's `stop()` stops them all, each waiting its `shutdownTimeout`.
 *
 * @param start Starts the worker's listener(s) and returns them (or a promise of them).
 * @returns Resolves once the pool was told this worker is ready.
 * @throws {TypeError} When not running in a worker thread started by `startWorkers()`, or `start` is not a
 * function or does not return a listener (the promise rejects).
 * @throws {Error} Whatever `start` throws (such as a `ListenError`), after telling the pool, whose
 * `startWorkers()` (or restart) then fails with a `WorkerError` naming it.
 *
 * @example A worker module: echo on the pool's port
 * ```ts
 * import assert from "node:assert/strict";
 * import { listen, serveWorker, tcp } from "../../mod.ts";
 * // In a worker of startWorkers({ module: new URL("./this_file.ts", import.meta.url) }) this serves;
 * // anywhere else it rejects, as it does here.
 * const served = serveWorker(({ port }) =>
 *   listen({
 *     transport: tcp({ host: "127.0.0.1", port, reusePort: true }),
 *     protocol: async (conn) => {
 *       const socket = await conn.handshake();
 *       for await (const chunk of socket) await socket.send(chunk);
 *     },
 *   })
 * );
 * await assert.rejects(served, TypeError);
 * ```
 */
export async function serveWorker<D = unknown>(
  start: (context: WorkerContext<D>) => WorkerListeners | Promise<WorkerListeners>,
): Promise<void> {
  if (typeof start !== "function") {
    throw new TypeError(`serveWorker(start): start must be a function, got ${describe(start)}`);
  }
  const parent = (await runtimeThreads()).parent();
  const init = parent === undefined ? undefined : workerInit(parent.data);
  if (parent === undefined || init === undefined) {
    throw new TypeError("serveWorker() runs only in a worker thread started by startWorkers()");
  }
  const post = (message: FromWorker) => parent.post(message);
  let started: Promise<unknown> = Promise.resolve();
  let stopping: Promise<void> | undefined;
  parent.onMessage((message) => {
    if (!isPoolMessage(message)) return;
    const m = message as ToWorker;
    if (m.corral === "info") {
      post({ corral: "info", request: m.request, listeners: listeners().map((l) => cloneableInfo(l.info())) });
    } else if (m.corral === "stop") {
      // Every listener in this thread: the module may run more than the one it returned.
      stopping ??= started.then(() => Promise.all(listeners().map((l) => l.stop())))
        .then(() => post({ corral: "stopped" }), () => post({ corral: "stopped" }));
    }
  });
  let result: unknown;
  try {
    result = await (started = Promise.resolve(start({ id: init.id, port: init.port, data: init.data as D })));
    const first = Array.isArray(result) ? result[0] : result;
    if (typeof (first as Listener<unknown> | undefined)?.stop !== "function") {
      throw new TypeError(`serveWorker(start): start must return the listener it started, got ${describe(result)}`);
    }
    post({ corral: "ready", port: (first as Listener<unknown>).port });
  } catch (error) {
    post({ corral: "failed", error: errorData(error) });
    throw error;
  }
}
