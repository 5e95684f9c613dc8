/**
 * A handover's successor telling its predecessor that it accepts.
 *
 * @module
 */
import { runtimeAdapter } from "../runtime/detect.ts";
import { CORRAL_READY_FD, LISTEN_PID } from "./_env.ts";

let reported = false;

/**
 * Tells the process that started this one through `handover()` that this
 * one is ready: it accepts on the inherited listen sockets, so the
 * predecessor stops accepting and drains. Call it once the listeners are
 * running. Does nothing in a process `handover()` did not start (nor a
 * second time), so a program calls it unconditionally.
 *
 * @returns `true` when a predecessor was told, `false` when there was none to tell.
 * @throws {Error} When the report cannot be written, with the system's `code` (the promise rejects).
 *
 * @example A program that may be a handover's successor
 * ```ts
 * import assert from "node:assert/strict";
 * import { listen, listenFds, notifyReady, tcp } from "../../mod.ts";
 * const [inherited] = await listenFds();
 * const transport = inherited ? tcp({ fd: inherited.fd }) : tcp({ host: "127.0.0.1", port: 0 });
 * const listener = await listen({ transport, protocol: () => {} });
 * assert((await notifyReady()) === (inherited !== undefined));
 * await listener.stop();
 * ```
 */
export async function notifyReady(): Promise<boolean> {
  const adapter = await runtimeAdapter();
  const { pid, env } = adapter.processInfo();
  const fd = env[CORRAL_READY_FD];
  if (reported || fd === undefined || !/^\d+$/.test(fd) || env[LISTEN_PID] !== String(pid)) return false;
  reported = true;
  // The report goes to this process's predecessor only, never to a child's.
  delete env[CORRAL_READY_FD];
  await adapter.writeAndClose(Number(fd), "READY=1\n");
  return true;
}
