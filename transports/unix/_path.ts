/**
 * How long a Unix socket path may be. The kernel's `sun_path` holds 108
 * bytes on Linux (104 on macOS and the BSDs), the terminating NUL included,
 * and runtimes differ past it: Node.js 20 silently binds a truncated name
 * (which then outlives `stop()`), Node.js 24, Deno and Bun fail with
 * EINVAL. So the length is checked before any runtime sees the path.
 *
 * @module
 */

const platform = (globalThis as { process?: { platform?: string } }).process?.platform;

/** The most bytes a socket path may have on this system. */
export const MAX_UNIX_PATH_BYTES: number = platform === "darwin" || platform?.endsWith("bsd") ? 103 : 107;

const encoder = new TextEncoder();

/** Throws a `RangeError` naming `option` and the limit when `path` is longer than the kernel takes. */
export function checkUnixPathLength(option: string, path: string): void {
  const bytes = encoder.encode(path).length;
  if (bytes <= MAX_UNIX_PATH_BYTES) return;
  throw new RangeError(
    `${option} is ${bytes} bytes long, but a Unix socket path holds at most ${MAX_UNIX_PATH_BYTES} bytes` +
      ` (the kernel's sun_path, ${MAX_UNIX_PATH_BYTES + 1} with the terminating NUL): use a shorter path` +
      ` or a relative one, got ${path}`,
  );
}
