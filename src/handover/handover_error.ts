/**
 * The error a handover fails with when its successor does not take over.
 *
 * @module
 */
import { CorralError } from "../errors.ts";

/** Why a successor did not take over: it could not start, or it exited before it reported ready. */
export type HandoverErrorCode = "ESPAWN" | "ESUCCESSOR_EXIT";

/**
 * The successor of a `handover()` did not take over: `code` `"ESPAWN"` when
 * it could not be started (its `cause` has the system's code, such as
 * `"ENOENT"`), `"ESUCCESSOR_EXIT"` when it exited before it reported ready.
 * The old process keeps serving (see `handover()`).
 *
 * @example Branching on the code
 * ```ts
 * import assert from "node:assert/strict";
 * import { HandoverError } from "../../mod.ts";
 * const err = new HandoverError("ESUCCESSOR_EXIT", "the successor exited with status 1 before it was ready");
 * assert(err.code === "ESUCCESSOR_EXIT" && err.name === "HandoverError");
 * ```
 */
export class HandoverError extends CorralError {
  /** `"ESPAWN"` or `"ESUCCESSOR_EXIT"`. */
  declare readonly code: HandoverErrorCode;

  /**
   * Names why the successor did not take over.
   *
   * @param code `"ESPAWN"` or `"ESUCCESSOR_EXIT"`.
   * @param message What happened, for people.
   * @param options `cause`: the error that led to this one, such as the spawn error.
   *
   * @example A successor that could not start
   * ```ts
   * import assert from "node:assert/strict";
   * import { HandoverError } from "../../mod.ts";
   * const err = new HandoverError("ESPAWN", "cannot start ./server", { cause: { code: "ENOENT" } });
   * assert(err.code === "ESPAWN");
   * ```
   */
  constructor(code: HandoverErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}
