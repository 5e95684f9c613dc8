/**
 * Error classes with a stable `code`, so callers can branch on failures
 * without matching message text.
 *
 * @module
 */

/** Base class of every error Corral raises on purpose. */
export class CorralError extends Error {
  /** A stable, machine-readable identifier of the failure. */
  readonly code: string;

  /** Makes an error with a stable `code`, a message and an optional cause. */
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * An operation did not finish within its timeout.
 *
 * @example Catching a receive timeout
 * ```ts
 * import assert from "node:assert/strict";
 * import { TimeoutError } from "./errors.ts";
 * const err = new TimeoutError("recv timed out after 10 ms");
 * assert(err.code === "ETIMEDOUT" && err instanceof Error);
 * ```
 */
export class TimeoutError extends CorralError {
  /** Code `"ETIMEDOUT"`. */
  constructor(message: string, options?: { cause?: unknown }) {
    super("ETIMEDOUT", message, options);
  }
}

/**
 * The socket or listener is closed, so the operation cannot run.
 *
 * `code` is `"ECLOSED"` for a socket closed on this side, `"ECONNRESET"` when
 * the peer reset the connection, and `"ECONNREFUSED"` when nothing listens at
 * the address a client connected to.
 *
 * @example Telling a reset from a local close
 * ```ts
 * import assert from "node:assert/strict";
 * import { ClosedError } from "./errors.ts";
 * const err = new ClosedError("peer reset the connection", "ECONNRESET");
 * assert(err.code === "ECONNRESET");
 * ```
 */
export class ClosedError extends CorralError {
  /** `code` defaults to `"ECLOSED"` (closed on this side). */
  constructor(message: string, code = "ECLOSED", options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/**
 * A connection's handshake (TLS, PROXY header) failed or timed out.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HandshakeError } from "./errors.ts";
 * assert(new HandshakeError("bad hello").code === "EHANDSHAKE");
 * ```
 */
export class HandshakeError extends CorralError {
  /** Code `"EHANDSHAKE"`. */
  constructor(message: string, options?: { cause?: unknown }) {
    super("EHANDSHAKE", message, options);
  }
}

/**
 * A PROXY protocol header was missing, malformed or too long. `code` names
 * the exact problem.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ProxyHeaderError } from "./errors.ts";
 * assert(new ProxyHeaderError("EPROXY_SIGNATURE", "no signature").code === "EPROXY_SIGNATURE");
 * ```
 */
export class ProxyHeaderError extends CorralError {}

/**
 * The current runtime cannot do what an option asks (for example
 * `reusePort` on Node.js 20).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { UnsupportedError } from "./errors.ts";
 * const err = new UnsupportedError("reusePort", "node 20");
 * assert(err.code === "EUNSUPPORTED" && err.option === "reusePort");
 * ```
 */
export class UnsupportedError extends CorralError {
  /** The option (or feature) the runtime lacks. */
  readonly option: string;
  /** The runtime that lacks it, such as `"deno"` or `"node 20"`. */
  readonly runtime: string;

  /** Names the option, the runtime, and optionally what would make it work. */
  constructor(option: string, runtime: string, detail = "") {
    super("EUNSUPPORTED", `${option} is not supported on ${runtime}${detail ? `: ${detail}` : ""}`);
    this.option = option;
    this.runtime = runtime;
  }
}

/**
 * Opening a listen socket failed. `code` is the system's code, such as
 * `"EADDRINUSE"` or `"EACCES"`, or `"NO_CERT"` for a TLS listener without a
 * certificate.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ListenError } from "./errors.ts";
 * assert(new ListenError("EADDRINUSE", "port 80 is taken").code === "EADDRINUSE");
 * ```
 */
export class ListenError extends CorralError {}

/**
 * Wraps a runtime's listen failure in a `ListenError` that says where, and
 * lets `UnsupportedError` and `ListenError` through unchanged.
 */
export function toListenError(error: unknown, where: string): Error {
  if (error instanceof UnsupportedError || error instanceof ListenError) return error;
  const code = systemErrorCode(error) ?? "ELISTEN";
  const reason = error instanceof Error ? error.message : String(error);
  return new ListenError(code, `cannot listen on ${where}: ${reason}`, { cause: error });
}

/** Wraps a runtime's connect failure in a `ClosedError` with the system code, such as `ECONNREFUSED`. */
export function toConnectError(error: unknown, where: string): Error {
  if (error instanceof UnsupportedError || error instanceof ClosedError) return error;
  const code = systemErrorCode(error) ?? "ECONNREFUSED";
  const reason = error instanceof Error ? error.message : String(error);
  return new ClosedError(`cannot connect to ${where}: ${reason}`, code, { cause: error });
}

/** Reads the system error code (`"EADDRINUSE"`, ...) a runtime attached to an error. */
export function systemErrorCode(err: unknown): string | undefined {
  if (err && typeof err === "object") {
    const code = (err as { code?: unknown }).code;
    if (typeof code === "string") return code;
    const name = (err as { name?: unknown }).name;
    // Deno raises classes named after the failure instead of setting `code`.
    if (typeof name === "string") return DENO_ERROR_CODES[name];
  }
  return undefined;
}

const DENO_ERROR_CODES: Record<string, string> = {
  AddrInUse: "EADDRINUSE",
  PermissionDenied: "EACCES",
  ConnectionRefused: "ECONNREFUSED",
  ConnectionReset: "ECONNRESET",
  ConnectionAborted: "ECONNABORTED",
  BrokenPipe: "EPIPE",
  AddrNotAvailable: "EADDRNOTAVAIL",
  NotFound: "ENOENT",
  TimedOut: "ETIMEDOUT",
};
