/**
 * Pending promises made without an executor closure, for the hot paths
 * (a read waiting for bytes, an acceptor waiting for a connection).
 *
 * `new Promise(capture)` runs `capture` synchronously: the promise's
 * resolving functions land in two module variables and are taken at once
 * with `takeResolve()` and `takeReject()`, so making a pending promise
 * allocates no closure and no context.
 *
 * @module
 */

/** A promise's resolve function. */
export type Resolve = (value: unknown) => void;
/** A promise's reject function. */
export type Reject = (error: unknown) => void;

function ignore(): void {}

let capturedResolve: Resolve = ignore;
let capturedReject: Reject = ignore;

/** The executor to pass to `new Promise`; follow it with `takeResolve()` and `takeReject()`. */
export function capture(resolve: Resolve, reject: Reject): void {
  capturedResolve = resolve;
  capturedReject = reject;
}

/** The resolve function of the promise `capture` was last given to. */
export function takeResolve(): Resolve {
  const resolve = capturedResolve;
  capturedResolve = ignore;
  return resolve;
}

/** The reject function of the promise `capture` was last given to. */
export function takeReject(): Reject {
  const reject = capturedReject;
  capturedReject = ignore;
  return reject;
}

/**
 * A thenable that rejects with `error`: `resolve(rejecting(error))` rejects
 * a promise whose reject function was not kept (keeping it costs a function
 * object for as long as the promise is pending, such as a read on an idle
 * connection). Unlike `Promise.reject(error)` it is no rejected promise
 * itself, so nothing can report it as unhandled.
 */
export function rejecting(error: unknown): PromiseLike<never> {
  return { then: (_fulfilled: unknown, rejected?: Reject) => rejected?.(error) } as unknown as PromiseLike<never>;
}
