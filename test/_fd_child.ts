/**
 * A program for the inherited-descriptor tests: it listens with
 * `tcp({ fd })` or `unix({ fd })` (by the name `listenFds()` gives, `tcp`
 * or anything else for unix) on every descriptor it inherited, prints
 * `LISTENING <json>` (each name, fd and address), serves echo until its
 * stdin ends, then suspends and tries to resume each listener (an inherited
 * descriptor cannot be listened on again), prints `STOPPED <json>` (the
 * resume errors' codes) and exits 0.
 *
 * @module
 */
import { listen, listenFds, tcp, unix } from "../mod.ts";
import { echo } from "./_fixtures.ts";

const inherited = await listenFds();
const listeners = await Promise.all(
  inherited.map(({ fd, name }) => listen({ transport: name === "tcp" ? tcp({ fd }) : unix({ fd }), protocol: echo })),
);
const listening = inherited.map(({ fd, name }, i) => ({ fd, name, address: listeners[i]!.address }));
console.log(`LISTENING ${JSON.stringify({ pid: globalThis.process.pid, listening })}`);

globalThis.process.stdin.resume();
globalThis.process.stdin.once("end", async () => {
  const resumeErrors: (string | undefined)[] = [];
  for (const listener of listeners) {
    await listener.suspend();
    resumeErrors.push(await listener.resume().then(() => undefined, (error) => (error as { code?: string }).code));
    await listener.stop();
  }
  console.log(`STOPPED ${JSON.stringify({ resumeErrors })}`);
  globalThis.process.exit(0);
});
