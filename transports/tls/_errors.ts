/**
 * How the `tls` transport reports a handshake: bounded by a deadline, and
 * with failures sorted into "could not reach the peer" (`ClosedError`, the
 * system code) and "reached it, but TLS failed" (`HandshakeError`).
 *
 * @module
 */
import {
  ClosedError,
  HandshakeError,
  systemErrorCode,
  TimeoutError,
  toConnectError,
  UnsupportedError,
} from "../../src/errors.ts";
import { TlsConfigError } from "../../src/tls_config_error.ts";

/** System codes that mean the TCP connection itself could not be made. */
const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EADDRNOTAVAIL",
  "ETIMEDOUT",
  "EACCES",
  "EPERM",
]);

/**
 * Resolves with `work` unless `ms` pass first: then `onTimeout` runs (it
 * drops the connection) and a `TimeoutError` rejects.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, what: string, onTimeout: () => void): Promise<T> {
  if (ms === Infinity) return work;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      onTimeout();
      reject(new TimeoutError(`${what} did not finish within ${ms} ms`));
    }, ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** A failed server-side or STARTTLS handshake as a `HandshakeError` (timeouts, misuse and bad certificates pass through). */
export function toHandshakeError(error: unknown, what: string): Error {
  if (
    error instanceof HandshakeError || error instanceof TimeoutError || error instanceof UnsupportedError ||
    error instanceof TypeError || error instanceof TlsConfigError
  ) {
    return error;
  }
  const reason = error instanceof Error ? error.message : String(error);
  return new HandshakeError(`${what} failed: ${reason}`, { cause: error });
}

/** A failed `connect()`: `ClosedError` when the peer was not reached, else `HandshakeError`. */
export function toTlsConnectError(error: unknown, where: string): Error {
  if (error instanceof UnsupportedError || error instanceof HandshakeError || error instanceof TlsConfigError) {
    return error;
  }
  const code = systemErrorCode(error);
  if ((code !== undefined && UNREACHABLE.has(code)) || (error instanceof ClosedError && code !== "ECONNRESET")) {
    return toConnectError(error, where);
  }
  return toHandshakeError(error, `TLS handshake with ${where}`);
}
