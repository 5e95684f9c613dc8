/**
 * What the Node.js adapter needs to know about the Node.js running it.
 *
 * @module
 */
import { UnsupportedError } from "../../errors.ts";

/** The runtime, as `UnsupportedError` and the adapter name it. */
export const runtimeName = `node ${process.versions.node}`;

const [major = 0, minor = 0] = process.versions.node.split(".").map(Number);
/** `server.listen({ reusePort })` arrived in Node.js 22.12 and 23.1. */
const hasReusePort = major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);

/** Throws `UnsupportedError` when `reusePort` is asked of a Node.js that would silently ignore it. */
export function checkReusePort(reusePort: boolean): void {
  if (reusePort && !hasReusePort) {
    throw new UnsupportedError("reusePort", runtimeName, "it needs Node.js 22.12 or later");
  }
}
