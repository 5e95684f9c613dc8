/**
 * A program for the EACCES test: run as root it first acts as `nobody`
 * (its effective user: every runtime has `process.seteuid`), since the
 * kernel denies root nothing; then it listens on tcp port 80 and on a socket
 * file in the folder given as its argument, which it may not write to, and
 * prints `CODES <json>`: each listen's error class and code. It is root
 * again before it exits, so its runner can clean up after it.
 *
 * @module
 */
import { listen, tcp, unix } from "../mod.ts";

const proc = globalThis.process;
const root = proc.getuid?.() === 0;
if (root) {
  proc.setegid!(65534);
  proc.seteuid!(65534);
}
const folder = proc.argv.at(-1)!;
const codes: Record<string, string> = {};
const attempts = [["tcp", tcp({ host: "127.0.0.1", port: 80 })], [
  "unix",
  unix({ path: `${folder}/denied.sock` }),
]] as const;
for (const [label, transport] of attempts) {
  try {
    const listener = await listen({ transport, protocol: () => {} });
    codes[label] = "listening";
    await listener.stop();
  } catch (error) {
    const { name, code } = error as { name?: string; code?: string };
    codes[label] = `${name} ${code}`;
  }
}
if (root) {
  proc.seteuid!(0);
  proc.setegid!(0);
}
console.log(`CODES ${JSON.stringify(codes)}`);
proc.exit(0);
