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
 * @param ref The `ref` the listener was started with (or was given).
 * @returns The listener, from `listen()` until its `stop()` completes; otherwise `undefined`.
 *
 * @example Finding a listener by its ref
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
 * @returns A new array each call.
 *
 * @example Listing the running listeners
 * ```ts
 * import assert from "node:assert/strict";
 * import { listen, listeners, memory } from "../mod.ts";
 * const listener = await listen({ transport: memory(), protocol: () => {} });
 * assert(listeners().includes(listener));
 * await listener.stop();
 * assert(!listeners().includes(listener));
 * ```
 */
export function listeners(): Listener<unknown>[] {
  return [...running.values()];
}

/**
 * Snapshots of every listener that has not stopped (Ranch's `ranch:info/0`).
 *
 * @returns One `listener.info()` per running or suspended listener, in start order.
 *
 * @example Finding a listener's snapshot
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
 * Stops the listener registered under `ref` (Ranch's `ranch:stop_listener/1`), as `listener.stop()` does.
 *
 * @param ref The listener's `ref`.
 * @returns `true` once the listener has stopped; `false`, doing nothing, when no listener has that ref.
 *
 * @example Stopping a listener by ref
 * ```ts
 * import assert from "node:assert/strict";
 * import { listen, memory, stopListener } from "../mod.ts";
 * const listener = await listen({ ref: "doc-stop-by-ref", transport: memory(), protocol: () => {} });
 * assert((await stopListener("doc-stop-by-ref")) === true && listener.status === "stopped");
 * assert((await stopListener("doc-stop-by-ref")) === false);
 * ```
 */
export function stopListener(ref: string): Promise<boolean> {
  return running.get(ref)?.stop() ?? Promise.resolve(false);
}
