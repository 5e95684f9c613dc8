/**
 * Resource exhaustion: with a low descriptor limit, accept fails with
 * EMFILE; the listener warns once, backs off instead of spinning, and serves
 * again once descriptors free up. The server runs in a child process so the
 * limit does not touch the test runner.
 *
 * Only Deno reports accept's EMFILE to JavaScript. On Node.js, libuv keeps
 * a spare descriptor and uses it to accept and close the waiting
 * connections, reporting nothing: the test sees excess clients dropped. On
 * Bun 1.4, the native accept loop retries by itself (oven-sh/bun#32705) and
 * nothing reaches JavaScript either: the test checks that service resumes.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { type Socket, tcp } from "../mod.ts";
import { test } from "./_harness.ts";
import { roundTrip } from "./_fixtures.ts";
import { runtimeName } from "./_runtime.ts";

const FD_LIMIT = 128;
/** How accept's EMFILE shows on each runtime (see above). */
const EMFILE_SHOWS = { node: "dropped clients", deno: "a warning", bun: "nothing" } as const;
const CLIENTS = 200;

test(`EMFILE on accept (seen as ${EMFILE_SHOWS[runtimeName]}): service resumes when descriptors free`, async () => {
  const proc = globalThis.process;
  const runtimeArgs = runtimeName === "deno" ? ["run", "-A"] : runtimeName === "bun" ? ["run"] : [];
  const child = spawn(
    "sh",
    ["-c", `ulimit -n ${FD_LIMIT} && exec "$0" "$@"`, proc.execPath, ...runtimeArgs, proc.argv[1]!, "--emfile-child"],
    { stdio: ["pipe", "pipe", "inherit"] },
  );
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const nextLine = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error("the child exited early");
    return value as string;
  };
  const clients: Socket[] = [];
  try {
    const first = await nextLine();
    assert.match(first, /^PORT \d+$/);
    const port = Number(first.slice(5));
    // More clients than the child has descriptors: the kernel completes the
    // connections, the child's accept runs out of descriptors.
    for (let i = 0; i < CLIENTS; i++) clients.push(await tcp().connect({ port }));
    const shows = EMFILE_SHOWS[runtimeName];
    if (shows === "a warning") {
      const warning = await nextLine();
      assert.match(warning, /^WARN .*accept failed with (EMFILE|ENFILE)/);
    } else if (shows === "dropped clients") {
      // A client the server dropped reads end of stream or a reset.
      await Promise.any(clients.map((client) => client.recv(0).then((chunk) => assert.equal(chunk, null), () => {})));
    }
    await Promise.all(clients.splice(0).map((client) => client.close()));
    // Served again: a fresh connection gets its echo (the child retries every 100 ms).
    const client = await tcp().connect({ port });
    clients.push(client);
    assert.equal(await roundTrip(client, "after EMFILE"), "after EMFILE");
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    child.stdin!.end();
    await new Promise((resolve) => child.once("exit", resolve));
  }
  // Anything else the child printed would be a second warning or an error.
  const rest: string[] = [];
  for (;;) {
    const { value, done } = await lines.next();
    if (done) break;
    rest.push(value as string);
  }
  assert.deepEqual(rest.filter((line) => line.startsWith("WARN") || line.startsWith("ERROR")), []);
}, { timeout: 30_000 });
