/**
 * Socket activation (systemd's `sd_listen_fds`): the listening descriptors
 * this process was started with, by systemd, `systemd-socket-activate` or a
 * predecessor's `handover()`.
 *
 * @module
 */
import { ListenError } from "../errors.ts";
import { describe, integerOption } from "../options.ts";
import { runtimeAdapter } from "../runtime/detect.ts";
import { LISTEN_FDNAMES, LISTEN_FDS, LISTEN_PID } from "./_env.ts";

/** Linux's default ceiling on a process's open files (`fs.nr_open`): more were never passed. */
const MAX_DESCRIPTORS = 1_048_576;

/** One inherited listening descriptor. */
export interface ListenFd {
  /** The descriptor, from 3 on: for `tcp({ fd })` or `unix({ fd })`. */
  fd: number;
  /** Its name from `LISTEN_FDNAMES` (systemd's `FileDescriptorName=`, a handover's listener ref), else `"unknown"`. */
  name: string;
}

/** Options of {@linkcode listenFds}, for reading another environment than this process's. */
export interface ListenFdsOptions {
  /** The variables to read. Default: this process's environment. */
  env?: Record<string, string | undefined>;
  /** The pid `LISTEN_PID` must name. Default: this process's pid. */
  pid?: number;
}

/**
 * The listening descriptors this process inherited, as systemd passes them:
 * `LISTEN_FDS` descriptors from 3 on, meant for this process only when
 * `LISTEN_PID` is its pid (a child that inherited the variables gets none),
 * named by `LISTEN_FDNAMES`. Each is listened on with `tcp({ fd })` or
 * `unix({ fd })`, whichever it is.
 *
 * @param options `env` and `pid` to read instead of this process's own.
 * @returns The descriptors in order; empty when none were passed to this process.
 * @throws {ListenError} `code` `"EINVAL"` when `LISTEN_FDS` is not a whole number or `LISTEN_FDNAMES` does not
 * name every descriptor (the promise rejects).
 * @throws {TypeError} When `env` is not an object (the promise rejects).
 * @throws {RangeError} When `pid` is not a positive integer (the promise rejects).
 *
 * @example Reading a systemd environment
 * ```ts
 * import assert from "node:assert/strict";
 * import { listenFds } from "../../mod.ts";
 * const env = { LISTEN_FDS: "2", LISTEN_PID: "4242", LISTEN_FDNAMES: "web:admin" };
 * assert.deepEqual(await listenFds({ env, pid: 4242 }), [{ fd: 3, name: "web" }, { fd: 4, name: "admin" }]);
 * assert.deepEqual(await listenFds({ env, pid: 4343 }), []); // meant for another process
 * ```
 *
 * @example Serving on the inherited socket, or on a port without one
 * ```ts
 * import { listen, listenFds, tcp } from "../../mod.ts";
 * const [inherited] = await listenFds();
 * const transport = inherited ? tcp({ fd: inherited.fd }) : tcp({ host: "127.0.0.1", port: 0 });
 * const listener = await listen({ transport, protocol: () => {} });
 * await listener.stop();
 * ```
 */
export async function listenFds(options: ListenFdsOptions = {}): Promise<ListenFd[]> {
  if (options.env !== undefined && (options.env === null || typeof options.env !== "object")) {
    throw new TypeError(`listenFds() option env must be an object, got ${describe(options.env)}`);
  }
  integerOption("listenFds() option pid", options.pid, 1, Number.MAX_SAFE_INTEGER, 1);
  const own = options.env === undefined || options.pid === undefined
    ? (await runtimeAdapter()).processInfo()
    : undefined;
  const env = options.env ?? own!.env;
  const pid = options.pid ?? own!.pid;
  const count = env[LISTEN_FDS];
  if (count === undefined || env[LISTEN_PID] !== String(pid)) return [];
  if (!/^\d+$/.test(count) || Number(count) > MAX_DESCRIPTORS) {
    throw new ListenError(
      "EINVAL",
      `${LISTEN_FDS} must be a whole number of descriptors up to ${MAX_DESCRIPTORS}, got ${describe(count)}`,
    );
  }
  const names = env[LISTEN_FDNAMES]?.split(":");
  if (names !== undefined && names.length !== Number(count)) {
    throw new ListenError(
      "EINVAL",
      `${LISTEN_FDNAMES} names ${names.length} descriptor(s) but ${LISTEN_FDS} is ${count}`,
    );
  }
  return Array.from({ length: Number(count) }, (_, i) => ({ fd: 3 + i, name: names?.[i] ?? "unknown" }));
}
