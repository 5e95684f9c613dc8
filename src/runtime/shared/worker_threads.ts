/**
 * Worker mode's threads over `node:worker_threads`, on all three runtimes:
 * Node.js has no other thread API, and Deno's and Bun's `node:worker_threads`
 * run their own Web Workers underneath with `workerData` and an `exit` code
 * that their `Worker` globals lack. A thread's sockets are the runtime's
 * own whichever API started it.
 *
 * @module
 */
import { availableParallelism } from "node:os";
import { parentPort, Worker, workerData } from "node:worker_threads";
import type { ParentChannel, Thread, ThreadEvents, ThreadRuntime } from "../../workers/threads.ts";

function spawn(module: URL, data: unknown, events: ThreadEvents): Thread {
  const worker = new Worker(module, { workerData: data });
  let lastError: unknown;
  const exited = new Promise<void>((resolve) => {
    worker.once("exit", (code: number) => {
      events.exit(code, lastError);
      resolve();
    });
  });
  worker.on("message", (message: unknown) => events.message(message));
  // Without an `error` listener an uncaught error in the thread would be rethrown in this one.
  // Bun ends a thread on an unhandled rejection with code 0 and no error event: `exit` still tells.
  worker.on("error", (error: unknown) => (lastError = error));
  return {
    post(message) {
      try {
        worker.postMessage(message);
      } catch {
        // The thread has ended: its exit is reported (or was) through `events.exit`.
      }
    },
    async terminate() {
      await worker.terminate();
      await exited;
    },
  };
}

function parent(): ParentChannel | undefined {
  const port = parentPort;
  if (port === null || port === undefined) return undefined;
  return {
    data: workerData as unknown,
    post: (message) => port.postMessage(message),
    onMessage: (listener) => void port.on("message", listener),
  };
}

/** The {@linkcode ThreadRuntime} of Node.js, Deno and Bun. */
export const threadRuntime: ThreadRuntime = { availableParallelism, spawn, parent };
