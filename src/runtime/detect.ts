/**
 * Picks the runtime adapter once and loads it lazily: Node.js never touches
 * `Bun`, and Deno loads `node:net` only for what `Deno.listen` cannot do
 * (`reusePort` without `--unstable-net`, an inherited `fd`).
 *
 * @module
 */
import type { RuntimeAdapter } from "./adapter.ts";
import { provideFileAccess } from "../socket/file_access.ts";
import type { ThreadRuntime } from "../workers/threads.ts";

/** The runtimes Corral has adapters for. */
export type RuntimeName = "node" | "deno" | "bun";

declare const Deno: unknown;
declare const Bun: unknown;

/**
 * The runtime this code runs on. Deno and Bun also define `process`, so they
 * are recognised by their own globals first.
 */
export const runtimeName: RuntimeName = typeof Deno !== "undefined"
  ? "deno"
  : typeof Bun !== "undefined"
  ? "bun"
  : "node";

let adapter: Promise<RuntimeAdapter> | undefined;

/** The adapter for this runtime, imported on first use. */
export function runtimeAdapter(): Promise<RuntimeAdapter> {
  // The sockets the adapter builds read files for sendfile() through it (see socket/file_access.ts).
  provideFileAccess(runtimeAdapter);
  adapter ??= runtimeName === "deno"
    ? import("./deno/adapter.ts").then((m) => m.denoAdapter)
    : runtimeName === "bun"
    ? import("./bun/adapter.ts").then((m) => m.bunAdapter)
    : import("./node/adapter.ts").then((m) => m.nodeAdapter);
  return adapter;
}

let threads: Promise<ThreadRuntime> | undefined;

/**
 * Worker threads for worker mode, imported on first use: one module for the
 * three runtimes, as each implements `node:worker_threads`.
 */
export function runtimeThreads(): Promise<ThreadRuntime> {
  threads ??= import("./shared/worker_threads.ts").then((m) => m.threadRuntime);
  return threads;
}
