/**
 * Zero-downtime redeploys: a listener hands its listen sockets to a fresh
 * process, waits until that process accepts, then stops accepting and
 * drains its own connections.
 *
 * @module
 */
import { TimeoutError, UnsupportedError } from "../errors.ts";
import { type Listener, listenSocketsOf } from "../listener.ts";
import type { Logger } from "../logger.ts";
import { describe, integerOption, rejectUnknownOptions, stringOption } from "../options.ts";
import type { Successor } from "../runtime/adapter.ts";
import { runtimeAdapter } from "../runtime/detect.ts";
import type { ListenSocket } from "../transport.ts";
import { isFdName, successorEnv } from "./_env.ts";
import { checkTcpMigrateReq } from "./tcp_migrate_req.ts";

/** How the successor gets the listening port: the same sockets, or its own beside them. */
export type HandoverVia = "descriptor" | "reusePort";

/** Options of {@linkcode handover}. */
export interface HandoverOptions {
  /** The successor's program. Default: this process's own command line again (same runtime, flags and arguments). */
  command?: string;
  /** The successor's arguments, with `command`. Default `[]`. */
  args?: string[];
  /** Variables added to the successor's environment (which is this process's otherwise). */
  env?: Record<string, string>;
  /** Ms to wait for the successor's `notifyReady()`. Default 30,000. */
  readyTimeout?: number;
  /**
   * `"descriptor"`: the successor inherits the listen sockets themselves
   * (the default where the runtime tells their descriptors): nothing is
   * refused or reset. `"reusePort"`: the successor binds its own sockets
   * beside them with `reusePort` (the default where it cannot, and only for
   * a listener that listens with `reusePort`): nothing is refused, but
   * connections queued on the old sockets are reset when they close, unless
   * `net.ipv4.tcp_migrate_req = 1` (see `checkTcpMigrateReq()`).
   */
  via?: HandoverVia;
  /** Where the `tcp_migrate_req` warning goes. Default `console`. */
  logger?: Pick<Logger, "warn">;
}

/** What {@linkcode handover} did. */
export interface HandoverResult {
  /** The successor's process id. */
  pid: number;
  /** How it got the port. */
  via: HandoverVia;
}

const KEYS = ["command", "args", "env", "readyTimeout", "via", "logger"];

/**
 * Hands `listener`'s port to a successor process without refusing or
 * resetting a connection: starts the successor (by default this same
 * program again) with the listen sockets as descriptors 3, 4, ... and
 * `LISTEN_FDS` / `LISTEN_PID` / `LISTEN_FDNAMES` set as systemd does (the
 * names are the listener's `ref`), waits until it calls `notifyReady()`,
 * then stops the listener: it accepts no more (the successor accepts
 * everything from then on, connections already queued included) and its
 * connections drain within its `shutdownTimeout`. The successor listens
 * with `tcp({ fd })` on what `listenFds()` returns.
 *
 * While the successor starts, the old process keeps accepting on Node.js
 * and Bun; on Deno it stops at once (Deno's spawn leaves the shared socket
 * blocking until the successor listens), so new connections wait in the
 * kernel's queue for the successor's start-up time, none refused.
 *
 * If the successor fails (exits, or is not ready within `readyTimeout`, when
 * it is killed), the listener keeps serving: on Deno it listens again on its
 * port (connections queued meanwhile are reset); one on an inherited
 * descriptor cannot, and is left suspended.
 *
 * @param listener A running `tcp` listener.
 * @param options The successor's `command`, `args`, `env`, `readyTimeout`, and `via`.
 * @returns Once the listener has stopped: the successor's pid and how it got the port.
 * @throws {HandoverError} When the successor cannot start (`"ESPAWN"`) or exits before it is ready
 * (`"ESUCCESSOR_EXIT"`) (the promise rejects).
 * @throws {TimeoutError} When it is not ready within `readyTimeout` (the promise rejects).
 * @throws {UnsupportedError} When the runtime cannot tell the listen sockets' descriptors and the listener
 * does not listen with `reusePort` (the promise rejects).
 * @throws {TypeError} When the listener is not a running `tcp` listener, or an option is unknown or of the
 * wrong type (the promise rejects).
 * @throws {RangeError} When `readyTimeout` is not a positive integer (the promise rejects).
 *
 * @example Redeploying on SIGHUP
 * ```ts
 * import { handover, listen, listenFds, notifyReady, tcp } from "../../mod.ts";
 * const [inherited] = await listenFds(); // set when a predecessor handed its socket over
 * const listener = await listen({
 *   ref: "echo",
 *   transport: inherited ? tcp({ fd: inherited.fd }) : tcp({ host: "127.0.0.1", port: 0 }),
 *   protocol: async (conn) => {
 *     const socket = await conn.handshake();
 *     for await (const chunk of socket) await socket.send(chunk);
 *   },
 * });
 * await notifyReady(); // the predecessor, if any, stops accepting now
 * const onHangUp = () => void handover(listener).then(() => globalThis.process.exit(0), console.error);
 * globalThis.process.once("SIGHUP", onHangUp);
 * // ... until the deploy tool sends SIGHUP. This example stops at once instead:
 * globalThis.process.off("SIGHUP", onHangUp);
 * await listener.stop();
 * ```
 *
 * @example A successor that fails leaves the listener serving
 * ```ts
 * import assert from "node:assert/strict";
 * import { handover, HandoverError, listen, tcp } from "../../mod.ts";
 * const listener = await listen({ transport: tcp({ host: "127.0.0.1", port: 0 }), protocol: () => {} });
 * const error = await handover(listener, { command: "false" }).catch((e) => e);
 * assert(error instanceof HandoverError && error.code === "ESUCCESSOR_EXIT");
 * assert(listener.status === "running");
 * await listener.stop();
 * ```
 */
export async function handover(listener: Listener<unknown>, options: HandoverOptions = {}): Promise<HandoverResult> {
  const checked = checkOptions(options);
  if (listener.status !== "running") {
    throw new TypeError(`handover() needs a running listener; ${listener.ref} is ${listener.status}`);
  }
  // The successor listens with tcp({ fd }): no other transport takes a descriptor it did not bind.
  const transport = listener.info().transport;
  if (transport !== "tcp") {
    throw new TypeError(`handover() hands over tcp listeners; ${listener.ref} listens with ${transport}`);
  }
  const adapter = await runtimeAdapter();
  const sockets = listenSocketsOf(listener);
  const fds = sockets.map((socket) => socket.fd);
  const reusePort = (listener.transportOptions as { reusePort?: boolean }).reusePort === true;
  const known = fds.every((fd) => fd !== undefined);
  const via = checked.via ?? (known ? "descriptor" : "reusePort");
  if (via === "descriptor" && !known) {
    throw new UnsupportedError(
      "handover() via descriptor",
      adapter.name,
      "it does not tell this listen socket's descriptor",
    );
  }
  if (via === "reusePort" && !reusePort) {
    if (checked.via === undefined) {
      throw new UnsupportedError(
        "handover()",
        adapter.name,
        "it does not tell this listen socket's descriptor; listen with reusePort to hand over via reusePort",
      );
    }
    throw new TypeError(
      `handover() via reusePort needs a listener that listens with reusePort; ${listener.ref} does not`,
    );
  }
  if (via === "reusePort") await checkTcpMigrateReq({ logger: checked.logger });
  const passed = via === "descriptor" ? (fds as number[]) : [];
  let stoppedAtSpawn = false;
  const successor = await adapter.spawnSuccessor({
    command: checked.command,
    args: checked.args,
    env: successorEnv(adapter.processInfo().env, checked.env, passed.length, fdNames(listener.ref, passed.length)),
    fds: passed,
    stopAccepting: () => {
      stoppedAtSpawn = true;
      closeNow(sockets);
    },
  });
  try {
    await readyWithin(successor, checked.readyTimeout);
  } catch (error) {
    await successor.kill();
    // Listening again binds a new socket on the same port: the successor held the old one.
    if (stoppedAtSpawn) await listener.suspend().then(() => listener.resume()).catch(() => {});
    throw error;
  }
  successor.release();
  await listener.stop();
  return { pid: successor.pid, via };
}

interface CheckedOptions {
  command: string | undefined;
  args: string[];
  env: Record<string, string>;
  readyTimeout: number;
  via: HandoverVia | undefined;
  logger: Pick<Logger, "warn">;
}

function checkOptions(options: HandoverOptions): CheckedOptions {
  if (options === null || typeof options !== "object") {
    throw new TypeError(`handover() options must be an object, got ${describe(options)}`);
  }
  rejectUnknownOptions("handover()", options, KEYS);
  const command = stringOption("handover() option command", options.command);
  const args = options.args ?? [];
  if (!Array.isArray(args) || args.some((arg) => typeof arg !== "string")) {
    throw new TypeError(`handover() option args must be an array of strings, got ${describe(options.args)}`);
  }
  if (args.length > 0 && command === undefined) throw new TypeError("handover() option args needs command");
  const env = options.env ?? {};
  if (env === null || typeof env !== "object" || Object.values(env).some((value) => typeof value !== "string")) {
    throw new TypeError(`handover() option env must map names to strings, got ${describe(options.env)}`);
  }
  const readyTimeout = integerOption("handover() option readyTimeout", options.readyTimeout, 1, 2 ** 31 - 1, 30_000);
  const via = options.via;
  if (via !== undefined && via !== "descriptor" && via !== "reusePort") {
    throw new TypeError(`handover() option via must be "descriptor" or "reusePort", got ${describe(via)}`);
  }
  const logger = options.logger ?? console;
  if (typeof logger?.warn !== "function") throw new TypeError("handover() option logger must have warn");
  return { command, args, env, readyTimeout, via, logger };
}

/** `LISTEN_FDNAMES` entries: the listener's ref for each socket, when systemd would accept it as a name. */
function fdNames(ref: string, count: number): string[] {
  return isFdName(ref) ? Array.from({ length: count }, () => ref) : [];
}

/** Closes the listen sockets without waiting, so nothing accepts on them after this call returns. */
function closeNow(sockets: readonly ListenSocket[]): void {
  for (const socket of sockets) void socket.close().catch(() => {});
}

function readyWithin(successor: Successor, timeout: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TimeoutError(`handover(): the successor (pid ${successor.pid}) was not ready in ${timeout} ms`)),
      timeout,
    );
  });
  return Promise.race([successor.ready, late]).finally(() => clearTimeout(timer));
}
