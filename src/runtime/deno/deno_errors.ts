/**
 * Deno error handling the adapter needs: giving errors a system `code` the
 * core can branch on, and telling "closed under us" from real failures.
 *
 * @module
 */
import { recode, systemErrorCode } from "../../errors.ts";

/** Linux errno numbers of failures `accept(2)` can report, by code. */
const ERRNO_CODES: Record<number, string> = {
  4: "EINTR",
  11: "EAGAIN",
  12: "ENOMEM",
  23: "ENFILE",
  24: "EMFILE",
  71: "EPROTO",
  103: "ECONNABORTED",
  104: "ECONNRESET",
  105: "ENOBUFS",
  110: "ETIMEDOUT",
};

/** Deno's error classes (`Deno.errors.AddrInUse`, ...) by name, and the code each stands for. */
const ERROR_CLASS_CODES: Record<string, string> = {
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

/** Deno's messages for a host name that does not resolve (getaddrinfo) or cannot be one ("invalid host"). */
const HOST_NOT_FOUND = /failed to lookup address information|^invalid host /;

/**
 * Returns `error` itself when `systemErrorCode` already finds a code in it
 * (Deno 2 sets `code` on most errors), else an `Error` with the `code` its
 * Deno error class stands for, or read from the message's `(os error N)` or
 * its text, such as `"Too many open files"`, and `error` as its `cause`.
 */
export function withSystemCode(error: unknown): unknown {
  if (systemErrorCode(error) !== undefined) return error;
  const message = error instanceof Error ? error.message : String(error);
  const errno = /\(os error (\d+)\)/.exec(message);
  const name = error instanceof Error ? error.name : undefined;
  let code = name !== undefined ? ERROR_CLASS_CODES[name] : undefined;
  code ??= errno ? ERRNO_CODES[Number(errno[1])] : undefined;
  if (code === undefined) {
    if (message.includes("Too many open files in system")) code = "ENFILE";
    else if (message.includes("Too many open files")) code = "EMFILE";
    // A host that does not resolve (or is no host name at all): what Node.js and Bun call ENOTFOUND.
    else if (HOST_NOT_FOUND.test(message)) return recode(error, "ENOTFOUND");
    else return error;
  }
  return Object.assign(new Error(message, { cause: error }), { code });
}
