/**
 * Resource exhaustion: with a low descriptor limit, accept fails with
 * EMFILE; the listener warns once, backs off instead of spinning, and serves
 * again once descriptors free up. The server runs in a child process so the
 * limit does not touch the test runner.
 *
 * Node.js never sees EMFILE from accept: libuv keeps a spare descriptor,
 * and when accept fails it uses it to accept and close the waiting
 * connections, reporting nothing. There the test checks that behaviour:
 * excess clients are closed, no warning, and service resumes.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { type Socket, tcp } from "../mod.ts";
import { test } from "./_harness.ts";
import { roundTrip } from "./_fixtures.ts";
import { runtimeName } from "./_runtime.ts";

const FD_LIMIT = 128;
/** Whether accept's EMFILE reaches JavaScript on each runtime (see above). */
const EMFILE_REPORTED = { node: false, deno: true, bun: true } as const;
const CLIENTS = 200;

test("EMFILE: one warning, back-off, and service resumes when descriptors free", async () => {
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
    if (EMFILE_REPORTED[runtimeName]) {
      const warning = await nextLine();
      assert.match(warning, /^WARN .*accept failed with (EMFILE|ENFILE)/);
    } else {
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
