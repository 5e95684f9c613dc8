/**
 * Node.js errors made to say what Deno and Bun say for the same mistake.
 *
 * libuv turns `bind(2)`'s ENOENT for a Unix socket into EACCES "for
 * compatibility with Windows" (`uv_pipe_bind` in libuv's src/unix/pipe.c),
 * so on Node.js a socket file in a missing folder reads as a permission
 * problem, where Deno and Bun report ENOENT.
 *
 * @module
 */
import { stat } from "node:fs/promises";
import { dirname } from "node:path";
import { recode, systemErrorCode } from "../../errors.ts";

/**
 * The error a Unix listen on `path` failed with, EACCES turned back into
 * the kernel's ENOENT when the folder is missing. (A folder that exists
 * keeps EACCES: telling a genuine one from a converted one would take the
 * effective user's rights, which `access(2)` does not check.)
 */
export async function unixListenError(error: unknown, path: string): Promise<unknown> {
  if (systemErrorCode(error) !== "EACCES") return error;
  const folder = dirname(path);
  const missing = await stat(folder).then(() => undefined, (reason: unknown) => systemErrorCode(reason));
  return missing === "ENOENT" ? recode(error, "ENOENT", `the folder ${folder} does not exist`) : error;
}
