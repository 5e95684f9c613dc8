/**
 * Makes sure a Bun socket error carries a system `code` the core can branch
 * on. Bun 1.4.5 sets `code` itself (`"EADDRINUSE"` from `Bun.listen`,
 * `"ECONNREFUSED"` / `"ENOENT"` from `Bun.connect`, `"ECONNRESET"` in the
 * `close` handler); this covers versions whose errors only name the code in
 * their message, such as `"ECONNRESET: connection reset by peer"`.
 *
 * @module
 */
import { recode, systemErrorCode } from "../../errors.ts";

const CODE_IN_MESSAGE = /\b(E[A-Z0-9]{3,})\b/;

/** Returns `error` itself when it has a `code`, else an `Error` with the code its message names, if any. */
export function withSystemCode(error: unknown): unknown {
  if (systemErrorCode(error) !== undefined) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = CODE_IN_MESSAGE.exec(message)?.[1];
  if (code === undefined) return error;
  return Object.assign(new Error(message, { cause: error }), { code });
}

/**
 * A TCP listen error with the code Node.js and Deno give: `Bun.listen` on a
 * host that does not resolve throws `Failed to listen at <host>` with no
 * code at all, so a failed lookup of that host (checked only then) makes it
 * ENOTFOUND.
 */
export async function tcpListenError(error: unknown, host: string): Promise<unknown> {
  const coded = withSystemCode(error);
  if (systemErrorCode(coded) !== undefined) return coded;
  const { lookup } = await import("node:dns/promises");
  const resolves = await lookup(host).then(() => true, () => false);
  return resolves ? coded : recode(error, "ENOTFOUND", `the host ${host} does not resolve`);
}

/**
 * A Unix connect error with the code Node.js and Deno give: `Bun.connect`
 * reports ECONNREFUSED when a part of the path is a file, not a folder
 * (ENOTDIR elsewhere), so the path is looked at then.
 */
export async function unixConnectError(error: unknown, path: string): Promise<unknown> {
  const coded = withSystemCode(error);
  if (systemErrorCode(coded) !== "ECONNREFUSED") return coded;
  const { lstat } = await import("node:fs/promises");
  const problem = await lstat(path).then(() => undefined, (reason: unknown) => systemErrorCode(reason));
  return problem === "ENOTDIR" || problem === "ENOENT" ? recode(error, problem) : coded;
}
