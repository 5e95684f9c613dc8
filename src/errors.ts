/**
 * Error classes with a stable `code`, so callers can branch on failures
 * without matching message text.
 *
 * @module
 */

/**
 * Base class of every error Corral raises on purpose; misuse raises `TypeError` or `RangeError` instead.
 *
 * @example Telling Corral's failures from other errors
 * ```ts
 * import assert from "node:assert/strict";
 * import { CorralError, TimeoutError } from "./errors.ts";
 * const err: unknown = new TimeoutError("recv timed out after 10 ms");
 * assert(err instanceof CorralError && err.code === "ETIMEDOUT" && err.name === "TimeoutError");
 * ```
 */
export class CorralError extends Error {
  /** A stable, machine-readable identifier of the failure. */
  readonly code: string;

  /**
   * Makes an error with a stable `code`, a message and an optional cause; `name` is the subclass's name.
   *
   * @param code The stable identifier, such as `"ETIMEDOUT"`.
   * @param message What happened, for people.
   * @param options `cause`: the error that led to this one.
   *
   * @example A subclass of your own
   * ```ts
   * import assert from "node:assert/strict";
   * import { CorralError } from "./errors.ts";
   * class QuotaError extends CorralError {}
   * const err = new QuotaError("EQUOTA", "too many rooms", { cause: 42 });
   * assert(err.name === "QuotaError" && err.code === "EQUOTA" && err.cause === 42);
   * ```
   */
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
  /**
   * Code `"ETIMEDOUT"`.
   *
   * @param message What timed out, and after how long.
   * @param options `cause`: the error that led to this one.
   *
   * @example A timeout with its cause
   * ```ts
   * import assert from "node:assert/strict";
   * import { TimeoutError } from "./errors.ts";
   * const err = new TimeoutError("no reply within 50 ms", { cause: "idle peer" });
   * assert(err.code === "ETIMEDOUT" && err.cause === "idle peer");
   * ```
   */
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
  /**
   * `code` defaults to `"ECLOSED"` (closed on this side).
   *
   * @param message What could not run, and why.
   * @param code `"ECLOSED"` (the default), `"ECONNRESET"`, `"ECONNREFUSED"` or another system code.
   * @param options `cause`: the error that led to this one.
   *
   * @example A local close
   * ```ts
   * import assert from "node:assert/strict";
   * import { ClosedError } from "./errors.ts";
   * assert(new ClosedError("socket closed").code === "ECLOSED");
   * ```
   */
  constructor(message: string, code = "ECLOSED", options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/**
 * A TLS handshake failed; `conn.handshake()` reports its timeout as one too (a `TimeoutError` as `cause`).
 * A missing or bad PROXY header is a {@linkcode ProxyHeaderError} instead.
 *
 * @example Recognising a failed handshake
 * ```ts
 * import assert from "node:assert/strict";
 * import { HandshakeError } from "./errors.ts";
 * assert(new HandshakeError("bad hello").code === "EHANDSHAKE");
 * ```
 */
export class HandshakeError extends CorralError {
  /**
   * Code `"EHANDSHAKE"`.
   *
   * @param message What failed in the handshake.
   * @param options `cause`: the error that led to this one, such as a `TimeoutError`.
   *
   * @example A timed-out handshake
   * ```ts
   * import assert from "node:assert/strict";
   * import { HandshakeError, TimeoutError } from "./errors.ts";
   * const err = new HandshakeError("handshake timed out", { cause: new TimeoutError("5000 ms") });
   * assert(err.code === "EHANDSHAKE" && err.cause instanceof TimeoutError);
   * ```
   */
  constructor(message: string, options?: { cause?: unknown }) {
    super("EHANDSHAKE", message, options);
  }
}

/**
 * A PROXY protocol header was missing, malformed or too long. `code` names
 * the exact problem.
 *
 * @example Branching on the code
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
 * @example Naming what is missing
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

  /**
   * Names the option, the runtime, and optionally what would make it work, all in the message.
   *
   * @param option The option (or feature) the runtime lacks.
   * @param runtime The runtime, such as `"deno"` or `"node 20"`.
   * @param detail What would make it work; left out of the message when empty.
   *
   * @example A message with a hint
   * ```ts
   * import assert from "node:assert/strict";
   * import { UnsupportedError } from "./errors.ts";
   * const err = new UnsupportedError("reusePort", "node 20", "upgrade Node.js");
   * assert(err.message === "reusePort is not supported on node 20: upgrade Node.js");
   * ```
   */
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
 * @example Branching on the system code
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
  return new ListenError(code, `cannot listen on ${where}: ${reasonOf(error)}`, { cause: error });
}

/** Wraps a runtime's connect failure in a `ClosedError` with the system code, such as `ECONNREFUSED`. */
export function toConnectError(error: unknown, where: string): Error {
  if (error instanceof UnsupportedError || error instanceof ClosedError) return error;
  const code = systemErrorCode(error) ?? "ECONNREFUSED";
  return new ClosedError(`cannot connect to ${where}: ${reasonOf(error)}`, code, { cause: error });
}

/** Where `recode` keeps the code (and reason) Corral reports for a runtime's error. */
const RECODED: unique symbol = Symbol("corral.recoded");

type Recodable = { [RECODED]?: { code: string; reason: string | undefined } };

/**
 * Gives a runtime's error the code Corral reports for that kind of mistake
 * on every runtime, and a clearer reason when the runtime's is misleading
 * (Node.js says `EACCES` for a socket file in a missing folder, where Deno
 * and Bun say `ENOENT`). The error itself is kept, so it stays the `cause`
 * of the `ListenError` or `ClosedError` that reports it.
 */
export function recode(error: unknown, code: string, reason?: string): unknown {
  if (error !== null && typeof error === "object" && Object.isExtensible(error)) {
    Object.defineProperty(error, RECODED, { value: { code, reason }, configurable: true });
    return error;
  }
  return Object.assign(new Error(reason ?? String(error), { cause: error }), { code });
}

function reasonOf(error: unknown): string {
  const reason = (error as Recodable | null)?.[RECODED]?.reason;
  if (reason !== undefined) return `${reason} (${error instanceof Error ? error.message : String(error)})`;
  return error instanceof Error ? error.message : String(error);
}

/**
 * Reads the system error code (`"EADDRINUSE"`, ...) attached to an error.
 * Adapters make sure their errors carry one (Deno's own error classes are
 * given theirs in the Deno adapter).
 */
export function systemErrorCode(err: unknown): string | undefined {
  if (err === null || typeof err !== "object") return undefined;
  const code = (err as Recodable)[RECODED]?.code ?? (err as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}
