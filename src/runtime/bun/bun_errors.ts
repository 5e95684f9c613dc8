/**
 * Makes sure a Bun socket error carries a system `code` the core can branch
 * on. Bun 1.4.5 sets `code` itself (`"EADDRINUSE"` from `Bun.listen`,
 * `"ECONNREFUSED"` / `"ENOENT"` from `Bun.connect`, `"ECONNRESET"` in the
 * `close` handler); this covers versions whose errors only name the code in
 * their message, such as `"ECONNRESET: connection reset by peer"`.
 *
 * @module
 */
import { systemErrorCode } from "../../errors.ts";

const CODE_IN_MESSAGE = /\b(E[A-Z0-9]{3,})\b/;

/** Returns `error` itself when it has a `code`, else an `Error` with the code its message names, if any. */
export function withSystemCode(error: unknown): unknown {
  if (systemErrorCode(error) !== undefined) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = CODE_IN_MESSAGE.exec(message)?.[1];
  if (code === undefined) return error;
  return Object.assign(new Error(message, { cause: error }), { code });
}
