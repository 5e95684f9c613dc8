/**
 * The kernel setting that decides what the `reusePort` handover costs.
 *
 * @module
 */
import type { Logger } from "../logger.ts";
import { runtimeAdapter } from "../runtime/detect.ts";

const SETTING = "/proc/sys/net/ipv4/tcp_migrate_req";

/** Options of {@linkcode checkTcpMigrateReq}. */
export interface CheckTcpMigrateReqOptions {
  /** Where the warning goes. Default `console`. */
  logger?: Pick<Logger, "warn">;
}

/**
 * Checks whether a `reusePort` handover can move queued connections: when
 * the old listen socket closes, connections the kernel has completed but the
 * old process has not accepted yet are reset, unless Linux (5.14 or later)
 * has `net.ipv4.tcp_migrate_req = 1`, which moves them to another socket of
 * the same port. Warns through `logger` when it is not set (or cannot be
 * read: another system, an older kernel). A handover that shares the
 * listening descriptor (the default where the runtime exposes it) loses
 * nothing either way.
 *
 * @param options `logger` for the warning.
 * @returns `true` when queued connections migrate; `false` (after the warning) when they will be reset.
 * @throws {TypeError} When `logger` has no `warn` method (the promise rejects).
 *
 * @example Checking before a redeploy
 * ```ts
 * import assert from "node:assert/strict";
 * import { checkTcpMigrateReq } from "../../mod.ts";
 * const warnings: string[] = [];
 * const migrates = await checkTcpMigrateReq({ logger: { warn: (line) => void warnings.push(line) } });
 * assert(migrates === (warnings.length === 0)); // one warning exactly when queued connections would be reset
 * ```
 */
export async function checkTcpMigrateReq(options: CheckTcpMigrateReqOptions = {}): Promise<boolean> {
  const logger = options.logger ?? console;
  if (typeof logger?.warn !== "function") throw new TypeError("checkTcpMigrateReq() option logger must have warn");
  const adapter = await runtimeAdapter();
  let value: string;
  try {
    value = (await adapter.readTextFile(SETTING)).trim();
  } catch (error) {
    logger.warn(
      `corral: cannot read ${SETTING} (${(error as { code?: string }).code ?? error}): a reusePort handover ` +
        "resets the connections still queued on the old listen socket when it closes (migration needs Linux 5.14+)",
    );
    return false;
  }
  if (value === "1") return true;
  logger.warn(
    `corral: net.ipv4.tcp_migrate_req is ${value}: a reusePort handover resets the connections still queued ` +
      "on the old listen socket when it closes; set it to 1 (sysctl -w net.ipv4.tcp_migrate_req=1) to move them",
  );
  return false;
}
