/**
 * One stable code per kind of mistake, on every runtime, with the
 * runtime's own error as `cause`. Each case failed differently before:
 * Node.js said EACCES for a socket file in a missing folder (libuv turns
 * bind's ENOENT into EACCES), Deno and Bun said ELISTEN for a host that
 * does not resolve (and Deno ECONNREFUSED when connecting to one), Bun said
 * ECONNREFUSED for a socket path through a file, and Node.js 20 bound a
 * truncated name for a socket path longer than the kernel's `sun_path`.
 *
 * The other addresses here are never reached: 192.0.2.1 (a documentation
 * address) and fe80::1 fail at bind(2), before any packet.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ClosedError, listen, type Listener, ListenError, tcp, unix } from "../mod.ts";
import { suite, test } from "./_harness.ts";
import { idle, socketPath, start } from "./_fixtures.ts";
import { runtimeCommand } from "./_runtime.ts";

/** Asserts `error` is a `kind` with `code`, whose `cause` is the runtime's own error. */
function assertCode(error: unknown, kind: typeof ListenError | typeof ClosedError, code: string): void {
  assert.ok(error instanceof kind, `expected a ${kind.name}, got ${error}`);
  assert.equal(error.code, code, error.message);
  assert.ok(error.cause instanceof Error, `no runtime error as cause: ${error.cause}`);
}

const listenError = (transport: Parameters<typeof listen>[0]["transport"]) =>
  listen({ transport, protocol: idle }).then((l: Listener<unknown>) => l.stop().then(() => "listening"), (e) => e);

suite("error codes", () => {
  const dir = () => mkdtempSync(join(tmpdir(), "corral-errors-"));

  test("a socket file in a missing folder: ENOENT, listening and connecting", async () => {
    const path = join(tmpdir(), `corral-missing-${globalThis.process.pid}`, "a.sock");
    const error = await listenError(unix({ path }));
    assertCode(error, ListenError, "ENOENT");
    assert.match((error as Error).message, /corral-missing-\d+\/a\.sock/);
    assertCode(await unix().connect({ path }).catch((e) => e), ClosedError, "ENOENT");
  });

  test("a socket path through a file: ENOTDIR, listening and connecting", async () => {
    const folder = dir();
    try {
      writeFileSync(join(folder, "file"), "not a folder");
      const path = join(folder, "file", "a.sock");
      assertCode(await listenError(unix({ path })), ListenError, "ENOTDIR");
      assertCode(await unix().connect({ path }).catch((e) => e), ClosedError, "ENOTDIR");
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  for (const host of ["999.1.1.1", "corral.invalid"]) {
    test(`host ${host} does not resolve: ENOTFOUND, listening and connecting`, async () => {
      assertCode(await listenError(tcp({ host, port: 0 })), ListenError, "ENOTFOUND");
      assertCode(await tcp().connect({ host, port: 9 }).catch((e) => e), ClosedError, "ENOTFOUND");
    });
  }

  test("a taken port or socket file: EADDRINUSE", async () => {
    await using taken = await start({ transport: tcp({ host: "127.0.0.1", port: 0 }), protocol: idle });
    assertCode(await listenError(tcp({ host: "127.0.0.1", port: taken.port! })), ListenError, "EADDRINUSE");
    const folder = dir();
    try {
      // A file that is not a socket is never removed to make room.
      writeFileSync(join(folder, "plain"), "keep me");
      assertCode(await listenError(unix({ path: join(folder, "plain") })), ListenError, "EADDRINUSE");
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  test("an address this machine does not have: EADDRNOTAVAIL; a link-local one without a scope: EINVAL", async () => {
    assertCode(await listenError(tcp({ host: "192.0.2.1", port: 0 })), ListenError, "EADDRNOTAVAIL");
    assertCode(await listenError(tcp({ host: "fe80::1", port: 0 })), ListenError, "EINVAL");
  });

  test("nothing listening: ECONNREFUSED, over tcp and at a socket file that is no socket", async () => {
    const listener = await start({ transport: tcp({ host: "127.0.0.1", port: 0 }), protocol: idle });
    const port = listener.port!;
    await listener.stop();
    assertCode(await tcp().connect({ host: "127.0.0.1", port }).catch((e) => e), ClosedError, "ECONNREFUSED");
    const folder = dir();
    try {
      writeFileSync(join(folder, "plain"), "");
      assertCode(await unix().connect({ path: join(folder, "plain") }).catch((e) => e), ClosedError, "ECONNREFUSED");
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  const proc = globalThis.process;
  const eaccesSkip = proc.platform !== "linux" && "the privileged-port rule checked here is Linux's";
  test("no permission: EACCES for a port below 1024 and a folder one may not write to", async () => {
    const folder = dir();
    try {
      chmodSync(folder, 0o555);
      const [command, args] = runtimeCommand("test/_eacces_child.ts");
      // As root the child becomes nobody first: the kernel denies root nothing.
      const child = spawn(command, [...args, folder], {
        stdio: ["ignore", "pipe", "inherit"],
        env: { ...proc.env, HOME: tmpdir() },
      });
      let out = "";
      child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
      const status = await new Promise((resolve) => child.once("close", resolve));
      const line = /^CODES (.*)$/m.exec(out);
      assert.ok(status === 0 && line, `the child failed (status ${status}): ${out}`);
      assert.deepEqual(JSON.parse(line[1]!), { tcp: "ListenError EACCES", unix: "ListenError EACCES" });
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  }, { skip: eaccesSkip, timeout: 30_000 });
});

suite("unix socket path length", () => {
  const maxBytes = ["darwin", "freebsd", "openbsd", "netbsd"].includes(globalThis.process.platform) ? 103 : 107;
  /** A path under the temp folder exactly `bytes` long. */
  const pathOf = (bytes: number) => {
    const prefix = join(tmpdir(), `corral-${globalThis.process.pid}-`);
    return prefix + "p".repeat(bytes - prefix.length - 5) + ".sock";
  };

  test(`a path over ${maxBytes} bytes is a RangeError at unix() and unix().connect(), naming the limit`, async () => {
    const path = pathOf(maxBytes + 1);
    const limit = new RegExp(`is ${maxBytes + 1} bytes long, but a Unix socket path holds at most ${maxBytes} bytes`);
    assert.throws(() => unix({ path }), (e: unknown) => e instanceof RangeError && limit.test(e.message));
    assert.throws(() => unix({ path: "/tmp/short.sock" }).withOptions({ path }), RangeError);
    await assert.rejects(unix().connect({ path }), (e: unknown) => e instanceof RangeError && limit.test(e.message));
    // Bytes, not characters: 54 two-byte letters are 108 bytes.
    assert.throws(() => unix({ path: `/tmp/${"é".repeat(54)}` }), RangeError);
  });

  test(`a path of exactly ${maxBytes} bytes listens there, and stop() removes that very file`, async () => {
    const path = pathOf(maxBytes);
    assert.equal(new TextEncoder().encode(path).length, maxBytes);
    const listener = await start({ transport: unix({ path }), protocol: idle });
    assert.deepEqual(listener.address, { path });
    const client = await unix().connect({ path });
    await listener.waitForConnections("==", 1, { timeout: 5000 });
    await client.close();
    await listener.stop();
    // Listening again at once works only if no truncated file was left behind by the first.
    const again = await start({ transport: unix({ path }), protocol: idle });
    await again.stop();
    assert.equal(await unix().connect({ path }).catch((e) => e.code), "ENOENT");
  });

  test("a shorter path is unaffected", async () => {
    await using listener = await start({ transport: unix({ path: socketPath() }), protocol: idle });
    assert.equal(listener.status, "running");
  });
});
