/**
 * What worker mode needs from the runtime: starting a thread that runs a
 * module, and, inside such a thread, the channel back to the thread that
 * started it. The runtime layer implements it (over `node:worker_threads`,
 * which Node.js, Deno and Bun all provide) and `detect.ts` loads it lazily;
 * the pool and `serveWorker()` call nothing else.
 *
 * Messages are structured-cloned: plain data only, no functions or class
 * instances.
 *
 * @module
 */

/** What a started thread reports to the thread that started it. */
export interface ThreadEvents {
  /** A message the thread posted. */
  message(message: unknown): void;
  /**
   * The thread ended, however it ended: `error` is the uncaught error that
   * ended it (`undefined` for `process.exit()`, a return of its event loop or
   * `terminate()`). Called exactly once.
   */
  exit(code: number, error: unknown): void;
}

/** A running thread, seen from the thread that started it. */
export interface Thread {
  /** Sends `message` to the thread. */
  post(message: unknown): void;
  /** Ends the thread at once; resolves after its `exit` event was reported. */
  terminate(): Promise<void>;
}

/** Inside a thread: the way back to the thread that started it. */
export interface ParentChannel {
  /** What `spawn()` was given as `data`, cloned. */
  readonly data: unknown;
  /** Sends `message` to the parent. */
  post(message: unknown): void;
  /** Calls `listener` with every message from the parent; keeps the thread alive. */
  onMessage(listener: (message: unknown) => void): void;
}

/** Threads on this runtime. */
export interface ThreadRuntime {
  /** How many threads can run at once here (`os.availableParallelism()`). */
  availableParallelism(): number;
  /**
   * Starts a thread running the ES module at `module`, with `data` (cloned)
   * as its `ParentChannel.data`.
   */
  spawn(module: URL, data: unknown, events: ThreadEvents): Thread;
  /** The channel to the parent inside a started thread; `undefined` in the main thread. */
  parent(): ParentChannel | undefined;
}
