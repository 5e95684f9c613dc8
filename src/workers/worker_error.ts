/**
 * The error `startWorkers()` rejects with when a worker thread could not
 * start serving.
 *
 * @module
 */
import { CorralError } from "../errors.ts";

/**
 * A worker thread of `startWorkers()` failed to start: its module threw, its
 * `serveWorker()` start function threw (a taken port, a bad option), or the
 * thread exited before it reported ready. `code` is `"EWORKER"`; `workerId`
 * names the worker (1 to `count`); `cause` is the worker's error, rebuilt
 * with its name, message, `code` and stack.
 *
 * @example Recognising a worker that failed to start
 * ```ts
 * import assert from "node:assert/strict";
 * import { WorkerError } from "../../mod.ts";
 * const err = new WorkerError(2, "worker 2 failed to start: ListenError: port taken");
 * assert(err.code === "EWORKER" && err.workerId === 2);
 * ```
 */
export class WorkerError extends CorralError {
  /** The worker that failed, 1 to `count`. */
  readonly workerId: number;

  /**
   * Names the worker in the error; code `"EWORKER"`.
   *
   * @param workerId The worker that failed, 1 to `count`.
   * @param message What failed, for people.
   * @param options `cause`: the worker's own error.
   *
   * @example With the worker's error as cause
   * ```ts
   * import assert from "node:assert/strict";
   * import { WorkerError } from "../../mod.ts";
   * const err = new WorkerError(1, "worker 1 exited with code 1", { cause: new Error("boom") });
   * assert(err.cause instanceof Error && err.workerId === 1);
   * ```
   */
  constructor(workerId: number, message: string, options?: { cause?: unknown }) {
    super("EWORKER", message, options);
    this.workerId = workerId;
  }
}
