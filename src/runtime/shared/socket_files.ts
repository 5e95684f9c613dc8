/**
 * The file system work of Unix listeners and PEM paths through
 * `node:fs` (on Node.js and on Bun, which implements it natively).
 *
 * @module
 */
import { lstat, readFile, unlink } from "node:fs/promises";

/** Removes `path` if it is a socket file; a missing file is fine, anything else is left alone. */
export async function removeSocketFile(path: string): Promise<void> {
  try {
    if ((await lstat(path)).isSocket()) await unlink(path);
  } catch (error) {
    if ((error as { code?: string }).code !== "ENOENT") throw error;
  }
}

/** A UTF-8 text file's contents. */
export function readTextFile(path: string): Promise<string> {
  return readFile(path, "utf8");
}
