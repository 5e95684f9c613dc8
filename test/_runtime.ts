/** Which runtime runs the suite, for labels and runtime-specific expectations. */
import { runtimeName } from "../src/runtime/detect.ts";

declare const Deno: { version: { deno: string } };
declare const Bun: { version: string };

export { runtimeName };

/** `"node"`, `"deno"` or `"bun"` plus its version. */
export const runtimeLabel: string = runtimeName === "deno"
  ? `deno ${Deno.version.deno}`
  : runtimeName === "bun"
  ? `bun ${Bun.version}`
  : `node ${process.versions.node}`;

/** The Node.js major version, or 0 on other runtimes. */
export const nodeMajor: number = runtimeName === "node" ? Number(process.versions.node.split(".")[0]) : 0;

/**
 * The command that runs a TypeScript file on this same runtime in a child
 * process (Node.js goes through scripts/run.mjs, which bundles it).
 */
export function runtimeCommand(file: string): [string, string[]] {
  const exec = globalThis.process.execPath;
  if (runtimeName === "deno") return [exec, ["run", "-A", "--quiet", file]];
  if (runtimeName === "bun") return [exec, ["run", file]];
  return [exec, ["scripts/run.mjs", file]];
}
