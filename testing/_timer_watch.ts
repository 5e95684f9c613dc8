/**
 * Watches the timers code makes through the global `setTimeout` and
 * `setInterval` while a `testProtocol` runs, so timers left pending at the
 * end can be reported (and cleared). No test framework and no runtime API:
 * the global functions are wrapped while at least one watch is open and put
 * back when the last one closes. A watch takes only the timers its `owns()`
 * claims (made under its test's async context), so a caller's own timer
 * around the test, or another test's, is never its business.
 *
 * @module
 */

type TimerFunction = (callback: unknown, delay?: unknown, ...args: unknown[]) => unknown;
type ClearFunction = (handle: unknown) => void;

/** A timer made while a watch was open. */
export interface WatchedTimer {
  kind: "setTimeout" | "setInterval";
  delay: number;
  /** Where it was made: the calling stack frame, as "at ...". */
  origin: string;
  handle: unknown;
}

/** An open watch: the timers made since it opened that have not fired or been cleared. */
export interface TimerWatch {
  /** Pending timers, each cleared as it is returned. */
  leftBehind(): WatchedTimer[];
  /** Waits one event-loop turn on a real, unwatched timer. */
  nextTurn(): Promise<void>;
  /** Closes the watch; the global functions are restored when no watch is open. */
  stop(): void;
}

const scope = globalThis as unknown as {
  setTimeout: TimerFunction;
  clearTimeout: ClearFunction;
  setInterval: TimerFunction;
  clearInterval: ClearFunction;
};

/** The timer functions as they were when this module loaded, for waits that must not be watched. */
export const unwatchedSetTimeout: TimerFunction = scope.setTimeout.bind(globalThis);
/** The `clearTimeout` that goes with {@linkcode unwatchedSetTimeout}. */
export const unwatchedClearTimeout: ClearFunction = scope.clearTimeout.bind(globalThis);

type TimerFunctions = Pick<typeof scope, "setTimeout" | "clearTimeout" | "setInterval" | "clearInterval">;

/** An open watch: its pending timers, and whether a timer made now is its own. */
interface Watch {
  live: Map<unknown, WatchedTimer>;
  owns: () => boolean;
}

const open = new Set<Watch>();
let saved: TimerFunctions | undefined; // the functions found at install time
let installed: TimerFunctions | undefined; // the wrappers put in their place

/**
 * Opens a watch on the global timer functions; it keeps the timers made
 * while `owns()` returns true (every timer, when left out).
 */
export function watchTimers(owns: () => boolean = () => true): TimerWatch {
  if (open.size === 0) install();
  const live = new Map<unknown, WatchedTimer>();
  const watch: Watch = { live, owns };
  open.add(watch);
  return {
    leftBehind() {
      const left = [...live.values()];
      for (const timer of left) {
        const clear = timer.kind === "setTimeout" ? saved?.clearTimeout : saved?.clearInterval;
        clear?.call(globalThis, timer.handle);
        forget(timer.handle);
      }
      return left;
    },
    nextTurn: () => new Promise<void>((resolve) => unwatchedSetTimeout(resolve, 0)),
    stop() {
      if (!open.delete(watch) || open.size > 0 || saved === undefined || installed === undefined) return;
      // Put back only what is still ours: a fake-timer library installed meanwhile keeps its functions.
      for (const key of Object.keys(saved) as (keyof TimerFunctions)[]) {
        if (scope[key] === installed[key]) Object.assign(scope, { [key]: saved[key] });
      }
      saved = installed = undefined;
    },
  };
}

function install(): void {
  saved = {
    setTimeout: scope.setTimeout,
    clearTimeout: scope.clearTimeout,
    setInterval: scope.setInterval,
    clearInterval: scope.clearInterval,
  };
  installed = {
    setTimeout: wrapSet(saved.setTimeout, "setTimeout"),
    clearTimeout: wrapClear(saved.clearTimeout),
    setInterval: wrapSet(saved.setInterval, "setInterval"),
    clearInterval: wrapClear(saved.clearInterval),
  };
  Object.assign(scope, installed);
}

function wrapSet(original: TimerFunction, kind: WatchedTimer["kind"]): TimerFunction {
  const wrapper: TimerFunction = (callback, delay, ...args) => {
    const owners = typeof callback === "function" ? [...open].filter((watch) => watch.owns()) : [];
    // Nobody's business (the caller's own timeout around a test): the timer is left untouched.
    if (owners.length === 0) return original.call(globalThis, callback, delay, ...args);
    const timer: WatchedTimer = { kind, delay: Number(delay ?? 0) || 0, origin: origin(), handle: undefined };
    timer.handle = original.call(
      globalThis,
      function (this: unknown, ...given: unknown[]) {
        if (kind === "setTimeout") forget(timer.handle);
        return (callback as (...a: unknown[]) => unknown).apply(this, given);
      },
      delay,
      ...args,
    );
    for (const watch of owners) watch.live.set(timer.handle, timer);
    return timer.handle;
  };
  // Keep extras such as Node.js's util.promisify.custom.
  for (const key of Object.getOwnPropertySymbols(original)) {
    Object.defineProperty(wrapper, key, Object.getOwnPropertyDescriptor(original, key)!);
  }
  return wrapper;
}

function wrapClear(original: ClearFunction): ClearFunction {
  return (handle) => {
    forget(handle);
    original.call(globalThis, handle);
  };
}

function forget(handle: unknown): void {
  for (const watch of open) watch.live.delete(handle);
}

/** The frame that called the timer function: where the timer was made, as "at ...". */
function origin(): string {
  const stack = new Error().stack;
  // V8 starts with an "Error" line, JavaScriptCore does not; then this function's frame and the wrapper's.
  const frames = (stack ?? "").split("\n").map((line) => line.trim()).filter((line) => line !== "" && line !== "Error");
  const caller = frames[2];
  if (caller === undefined) return "at (unknown place)";
  return caller.startsWith("at ") ? caller : `at ${caller}`;
}
