/**
 * The environment variables of socket activation, as systemd defines them
 * (sd_listen_fds(3)), plus Corral's ready pipe for a handover's successor.
 *
 * @module
 */

/** How many descriptors were passed, from 3 on. */
export const LISTEN_FDS = "LISTEN_FDS";
/** The pid they were passed to: a child that inherits the variables must ignore them. */
export const LISTEN_PID = "LISTEN_PID";
/** Their names, `:`-separated, one per descriptor. */
export const LISTEN_FDNAMES = "LISTEN_FDNAMES";
/** The descriptor a handover's successor writes `READY=1` to once it accepts. */
export const CORRAL_READY_FD = "CORRAL_READY_FD";

const OURS = [LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES, CORRAL_READY_FD];

/** A name systemd accepts in `LISTEN_FDNAMES`: printable ASCII, no `:`, at most 255 characters. */
export function isFdName(name: string): boolean {
  return /^[\x20-\x39\x3b-\x7e]{1,255}$/.test(name);
}

/**
 * The successor's environment: this process's, without the variables of its
 * own activation, then `extra`, then the `count` descriptors (named `names`)
 * and the ready pipe that follows them.
 */
export function successorEnv(
  current: Record<string, string | undefined>,
  extra: Record<string, string>,
  count: number,
  names: readonly string[],
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(current)) {
    if (value !== undefined && !OURS.includes(key)) env[key] = value;
  }
  Object.assign(env, extra);
  if (count > 0) {
    env[LISTEN_FDS] = String(count);
    if (names.length === count) env[LISTEN_FDNAMES] = names.join(":");
  }
  env[CORRAL_READY_FD] = String(3 + count);
  return env;
}
