/**
 * Running listeners by `ref` (Ranch's `ranch_server`), for
 * `getListener(ref)`, `listeners()` and the module-level `info()`.
 *
 * @module
 */
import type { Listener, ListenerInfo } from "./listener.ts";

const running = new Map<string, Listener<unknown>>();

/** Adds a listener under its ref; false when the ref is taken. */
export function registerListener(ref: string, listener: Listener<unknown>): boolean {
  if (running.has(ref)) return false;
  running.set(ref, listener);
  return true;
}

/** Removes a listener (only if `ref` still names that one). */
export function forgetListener(ref: string, listener: Listener<unknown>): void {
  if (running.get(ref) === listener) running.delete(ref);
}

/**
 * The listener registered under `ref`, or `undefined`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { getListener, listen, memory } from "../mod.ts";
 * const listener = await listen({ ref: "doc-lookup", transport: memory(), protocol: () => {} });
 * assert(getListener("doc-lookup") === listener);
 * await listener.stop();
 * assert(getListener("doc-lookup") === undefined);
 * ```
 */
export function getListener(ref: string): Listener<unknown> | undefined {
  return running.get(ref);
}

/**
 * Every listener that has not stopped, in start order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { listeners } from "../mod.ts";
 * assert(Array.isArray(listeners()));
 * ```
 */
export function listeners(): Listener<unknown>[] {
  return [...running.values()];
}

/**
 * Snapshots of every listener that has not stopped (Ranch's `ranch:info/0`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { info, listen, memory } from "../mod.ts";
 * const listener = await listen({ ref: "doc-info", transport: memory(), protocol: () => {} });
 * assert(info().some((entry) => entry.ref === "doc-info"));
 * await listener.stop();
 * ```
 */
export function info(): ListenerInfo[] {
  return listeners().map((listener) => listener.info());
}

/**
 * Stops the listener registered under `ref` (Ranch's `ranch:stop_listener/1`).
 * Resolves `false`, doing nothing, when no such listener runs.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { stopListener } from "../mod.ts";
 * assert((await stopListener("no-such-listener")) === false);
 * ```
 */
export function stopListener(ref: string): Promise<boolean> {
  return running.get(ref)?.stop() ?? Promise.resolve(false);
}
