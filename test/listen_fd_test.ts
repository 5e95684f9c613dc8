/**
 * Listening on inherited descriptors: `listenFds()` reading systemd's
 * variables, `tcp({ fd })` / `unix({ fd })` option checks, a child of this
 * test serving on a listening socket made here, and a child started by
 * systemd-socket-activate (the real peer) serving on the socket it made.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import * as net from "node:net";
import { createInterface } from "node:readline";
import { ListenError, listenFds, tcp, unix } from "../mod.ts";
import { suite, test } from "./_harness.ts";
import { roundTrip, socketPath } from "./_fixtures.ts";
import { runtimeCommand } from "./_runtime.ts";

/** A child's stdout lines `KEY <json>`, by key, as they come. */
function reports(child: ChildProcess): (key: string) => Promise<Record<string, unknown>> {
  const seen = new Map<string, Record<string, unknown>>();
  const waiting = new Map<string, (value: Record<string, unknown>) => void>();
  createInterface({ input: child.stdout! }).on("line", (line) => {
    const match = /^([A-Z]+) (.*)$/.exec(line);
    if (!match) return;
    const value = JSON.parse(match[2]!) as Record<string, unknown>;
    seen.set(match[1]!, value);
    waiting.get(match[1]!)?.(value);
  });
  return (key) => {
    const value = seen.get(key);
    return value !== undefined ? Promise.resolve(value) : new Promise((resolve) => waiting.set(key, resolve));
  };
}

/**
 * The descriptor under a `node:net` server made by this test: on its handle
 * (Node.js, Bun), else (Deno) this process's descriptor whose socket inode
 * `/proc/self/net/tcp` lists as listening on the port.
 */
function descriptorOf(server: net.Server): number {
  const fd = (server as unknown as { _handle: { fd?: number } })._handle.fd;
  if (fd !== undefined) return fd;
  const port = (server.address() as net.AddressInfo).port.toString(16).toUpperCase().padStart(4, "0");
  const inodes = readFileSync("/proc/self/net/tcp", "utf8").split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter((fields) => fields[1]?.endsWith(`:${port}`) && fields[3] === "0A")
    .map((fields) => `socket:[${fields[9]}]`);
  const found = readdirSync("/proc/self/fd").find((name) => {
    try {
      return inodes.includes(readlinkSync(`/proc/self/fd/${name}`));
    } catch {
      return false;
    }
  });
  assert.ok(found !== undefined, "the listening socket's descriptor");
  return Number(found);
}

suite("listenFds", () => {
  const env = { LISTEN_FDS: "3", LISTEN_PID: "100", LISTEN_FDNAMES: "web:admin:local" };

  test("reads LISTEN_FDS, LISTEN_PID and LISTEN_FDNAMES as systemd sets them", async () => {
    assert.deepEqual(await listenFds({ env, pid: 100 }), [
      { fd: 3, name: "web" },
      { fd: 4, name: "admin" },
      { fd: 5, name: "local" },
    ]);
    assert.deepEqual(await listenFds({ env: { LISTEN_FDS: "1", LISTEN_PID: "7" }, pid: 7 }), [
      { fd: 3, name: "unknown" },
    ]);
    assert.deepEqual(await listenFds({ env: { LISTEN_FDS: "0", LISTEN_PID: "7" }, pid: 7 }), []);
  });

  test("variables meant for another process, or none at all, give no descriptor", async () => {
    assert.deepEqual(await listenFds({ env, pid: 101 }), [], "a child that inherited them");
    assert.deepEqual(await listenFds({ env: { LISTEN_FDS: "2" }, pid: 100 }), [], "no LISTEN_PID");
    assert.deepEqual(await listenFds({ env: {}, pid: 100 }), []);
    // This test process was started by nobody that passes descriptors.
    assert.deepEqual(await listenFds(), []);
  });

  test("a malformed LISTEN_FDS or LISTEN_FDNAMES is ListenError EINVAL", async () => {
    for (const bad of ["two", "-1", "1.5", "", "99999999"]) {
      const error = await listenFds({ env: { LISTEN_FDS: bad, LISTEN_PID: "1" }, pid: 1 }).catch((e) => e);
      assert.ok(error instanceof ListenError && error.code === "EINVAL", `LISTEN_FDS=${bad}: ${error}`);
    }
    const error = await listenFds({ env: { ...env, LISTEN_FDNAMES: "web:admin" }, pid: 100 }).catch((e) => e);
    assert.ok(error instanceof ListenError && error.code === "EINVAL");
    assert.match(error.message, /LISTEN_FDNAMES names 2 descriptor\(s\) but LISTEN_FDS is 3/);
  });

  test("its options are checked", async () => {
    await assert.rejects(listenFds({ env: "LISTEN_FDS=1" as never }), TypeError);
    await assert.rejects(listenFds({ pid: 0 }), RangeError);
    await assert.rejects(listenFds({ pid: 1.5 }), RangeError);
  });
});

suite("inherited descriptors", () => {
  test("tcp({ fd }) and unix({ fd }) check fd at the factory", () => {
    assert.throws(() => tcp({ fd: 2 }), /tcp\(\) option fd must be an integer from 3/);
    assert.throws(() => tcp({ fd: 3.5 }), RangeError);
    assert.throws(() => tcp({ fd: "3" as never }), TypeError);
    assert.throws(() => tcp({ fd: 3, port: 80 }), /option fd excludes port: the descriptor is already bound/);
    assert.throws(() => tcp({ fd: 3, host: "::1", reusePort: true }), /excludes host and reusePort/);
    assert.throws(() => unix({ fd: 3, path: "/tmp/x.sock" }), /unix\(\) option fd excludes path/);
    assert.throws(() => unix({} as never), /unix\(\) option path \(or fd\) is required/);
    assert.throws(() => unix({ fd: -1 }), RangeError);
    assert.deepEqual(tcp({ fd: 3, backlog: 64, noDelay: false }).options, { fd: 3, backlog: 64, noDelay: false });
    assert.deepEqual(unix({ fd: 4 }).options, { fd: 4 });
  });

  test("tcp({ fd }): a child that inherits a listening socket made here serves on it, once", async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen({ host: "127.0.0.1", port: 0 }, resolve));
    const { port } = server.address() as net.AddressInfo;
    const [command, args] = runtimeCommand("test/_fd_child.ts");
    const child = spawn("/bin/sh", ["-c", 'LISTEN_PID=$$; export LISTEN_PID; exec "$0" "$@"', command, ...args], {
      stdio: ["pipe", "pipe", "inherit", descriptorOf(server)],
      env: { ...globalThis.process.env, LISTEN_FDS: "1", LISTEN_FDNAMES: "tcp" },
    });
    // Only the child accepts from here on (and Deno's spawn left the socket blocking until the child listens).
    server.close();
    const exited = new Promise((resolve) => child.once("exit", resolve));
    try {
      const report = reports(child);
      const { listening } = await report("LISTENING");
      assert.deepEqual(listening, [{ fd: 3, name: "tcp", address: { address: "127.0.0.1", port, family: "IPv4" } }]);
      const client = await tcp().connect({ port });
      assert.equal(await roundTrip(client, "inherited"), "inherited");
      await client.close();
      child.stdin!.end();
      // Suspending closed the descriptor: resume refuses to listen on its number again.
      assert.deepEqual(await report("STOPPED"), { resumeErrors: ["EBADF"] });
      assert.equal(await exited, 0);
      await assert.rejects(tcp().connect({ port }), { code: "ECONNREFUSED" });
    } finally {
      child.kill("SIGKILL");
    }
  }, { timeout: 60_000 });

  const activate = "/usr/bin/systemd-socket-activate";
  test("unix({ fd }) under systemd-socket-activate: the child serves the connection that started it", async () => {
    const path = socketPath();
    const [command, args] = runtimeCommand("test/_fd_child.ts");
    const child = spawn(activate, ["-l", path, "--fdname=local", command, ...args], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    try {
      const listening = new Promise<void>((resolve) =>
        createInterface({ input: child.stderr! }).on("line", (line) => line.startsWith("Listening on") && resolve())
      );
      await listening;
      // systemd-socket-activate starts the program on the first connection.
      const client = await unix().connect({ path });
      const report = reports(child);
      const started = await report("LISTENING");
      assert.deepEqual(started.listening, [{ fd: 3, name: "local", address: { path: "" } }]);
      assert.equal(await roundTrip(client, "activated"), "activated");
      await client.close();
      child.stdin!.end();
      assert.deepEqual(await report("STOPPED"), { resumeErrors: ["EBADF"] });
      assert.equal(await exited, 0);
      assert.ok(existsSync(path), "the socket file is systemd's: a listener on its descriptor leaves it");
    } finally {
      child.kill("SIGKILL");
      rmSync(path, { force: true });
    }
  }, { timeout: 60_000, skip: !existsSync(activate) && `${activate} is missing` });
});
