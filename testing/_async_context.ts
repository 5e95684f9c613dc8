/**
 * The test kit's one way to `node:async_hooks`, whose `AsyncLocalStorage`
 * Node.js, Deno and Bun implement alike: a value set for a call follows
 * everything that call starts (awaits, promise callbacks, timers, microtasks),
 * and nothing else. `testProtocol` uses it to tell the timers its protocol
 * and body make from those of the code around it.
 *
 * Loaded on first use by a dynamic import, so importing `corral/testing`
 * loads no `node:` module, and typed by hand, so the published declarations
 * need no `@types/node`.
 *
 * @module
 */

/** The part of `AsyncLocalStorage` the test kit uses. */
export interface AsyncContext<T> {
  /** Runs `fn` with `store` as the value of everything it starts. */
  run<R>(store: T, fn: () => R): R;
  /** The value of the call running now, if it was started under `run`. */
  getStore(): T | undefined;
}

type AsyncContextClass = new <T>() => AsyncContext<T>;

let shared: Promise<AsyncContext<object> | undefined> | undefined;

/**
 * The test kit's async context, one for the process (Node.js 20 keeps every
 * `AsyncLocalStorage` ever run and copies each one's value into every new
 * async resource, so one per test would slow down a long suite), or
 * `undefined` on a runtime without `node:async_hooks`. Each caller runs
 * under a value of its own.
 */
export function asyncContext(): Promise<AsyncContext<object> | undefined> {
  shared ??= import("node:async_hooks").then(
    (module) => {
      const AsyncLocalStorage = (module as unknown as { AsyncLocalStorage?: AsyncContextClass }).AsyncLocalStorage;
      return AsyncLocalStorage === undefined ? undefined : new AsyncLocalStorage<object>();
    },
    () => undefined,
  );
  return shared;
}
