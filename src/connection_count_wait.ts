/**
 * `listener.waitForConnections()` (Ranch's `ranch:wait_for_connections`):
 * waits until a listener's active connection count compares to a number.
 *
 * @module
 */
import type { ConnectionSupervisor } from "./connection_supervisor.ts";
import { TimeoutError } from "./errors.ts";
import { describe } from "./options.ts";

/** Comparisons `waitForConnections` understands. */
export type CountComparison = ">" | ">=" | "==" | "<=" | "<";

const COMPARISONS: Record<CountComparison, (a: number, b: number) => boolean> = {
  ">": (a, b) => a > b,
  ">=": (a, b) => a >= b,
  "==": (a, b) => a === b,
  "<=": (a, b) => a <= b,
  "<": (a, b) => a < b,
};

/**
 * Resolves once `supervisor`'s active count compares to `count` as `op`
 * says, re-checked at every change; rejects with `TimeoutError` after
 * `timeout` ms, and with `TypeError` / `RangeError` for a bad `op` / `count`.
 */
export function waitForCount<L>(
  supervisor: ConnectionSupervisor<L>,
  op: CountComparison,
  count: number,
  timeout: number,
): Promise<void> {
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
  const { done, cancel } = supervisor.watch(() => compare(supervisor.count("active"), count));
  if (timeout === Infinity) return done;
  let timer: ReturnType<typeof setTimeout>;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      cancel();
      const now = supervisor.count("active");
      reject(new TimeoutError(`waitForConnections(${op} ${count}) timed out after ${timeout} ms with ${now} active`));
    }, timeout);
  });
  return Promise.race([done, expired]).finally(() => clearTimeout(timer));
}
