/**
 * Which TLS code a runtime runs, when the options leave a choice: the
 * benchmarks set `CORRAL_TLS_PATH` to measure each path (it is not a user
 * setting, and options that need a path still get it).
 *
 * - `native`: the runtime's own TLS API (`Deno.listenTls` /
 *   `Deno.connectTls`; `Bun.listen` / `Bun.connect` with `tls`). On
 *   Node.js, the same as `node`. On Deno it is not enough for a listener:
 *   a silent client keeps its descriptor (denoland/deno#14547).
 * - `node`: `node:tls` over the runtime's `node:net` sockets.
 * - `node-carrier`: `node:tls` over a stream Corral reads, as
 *   `detectTruncation: true` asks for.
 *
 * @module
 */

/** The environment variable the benchmarks set. */
export const TLS_PATH_VARIABLE = "CORRAL_TLS_PATH";

/** A TLS path a runtime can take. */
export type TlsPath = "native" | "node" | "node-carrier";

/** The path `value` names; `undefined` (the runtime's default) for anything else. */
export function parseTlsPath(value: string | undefined): TlsPath | undefined {
  return value === "native" || value === "node" || value === "node-carrier" ? value : undefined;
}

/** `config` with `detectTruncation` on when the path is `node-carrier`. */
export function withTlsPath<T extends { detectTruncation: boolean }>(config: T, path: TlsPath | undefined): T {
  return path === "node-carrier" && !config.detectTruncation ? { ...config, detectTruncation: true } : config;
}
