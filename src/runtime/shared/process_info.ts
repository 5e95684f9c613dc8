/**
 * This process's pid and environment through the `process` global, which
 * Node.js, Deno 2 and Bun all define (Deno asks for `--allow-env` on the first
 * read of the environment).
 *
 * @module
 */
import type { ProcessInfo } from "../adapter.ts";

/** The pid and the live environment. */
export function processInfo(): ProcessInfo {
  const proc = globalThis.process;
  return { pid: proc.pid, env: proc.env };
}
