/**
 * Real TLS peers for the tests: `openssl s_client` / `s_server` and
 * `ncat --ssl`, spawned by the test and stopped by their PID.
 *
 * @module
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createServer } from "node:net";
import type { CertFiles } from "./_certs.ts";

/** Why the tests that run `ncat` skip, or `false` when it is there. */
export const ncatMissing: string | false = (() => {
  const probe = spawnSync("ncat", ["--version"], { encoding: "utf8" });
  return probe.status === 0 ? false : "the ncat command is not installed (apt-get install ncat)";
})();

/** A spawned peer and what it printed. Disposing of it stops it by its PID (see `stop`). */
export interface Peer extends AsyncDisposable {
  child: ChildProcess;
  output: () => string;
  /** Waits (at most 10 s) until the output matches `pattern`. */
  until: (pattern: RegExp) => Promise<void>;
}

/** A spawned openssl whose stdout and stderr are collected. */
export function openssl(args: string[]): Peer {
  return peer("openssl", args);
}

/** A spawned `command` (openssl, ncat) whose stdout and stderr are collected. */
export function peer(command: string, args: string[]): Peer {
  const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
  let output = "";
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  const check = () => {
    for (const waiter of waiters.splice(0)) {
      if (waiter.pattern.test(output)) waiter.resolve();
      else waiters.push(waiter);
    }
  };
  // openssl reports on both streams (s_server -rev prints the peer on stderr), as does ncat.
  const collect = (chunk: Uint8Array) => {
    output += new TextDecoder().decode(chunk);
    check();
  };
  child.stdout!.on("data", collect);
  child.stderr!.on("data", collect);
  // A peer that left before reading what was written to it (EPIPE) is seen in its output and exit, which the tests check.
  child.stdin!.on("error", () => {});
  const until = (pattern: RegExp) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${command} never printed ${pattern}:\n${output}`)), 10_000);
      waiters.push({ pattern, resolve: () => (clearTimeout(timer), resolve()) });
      check();
    });
  return { child, output: () => output, until, [Symbol.asyncDispose]: () => stop(child) };
}

/** Stops a peer by its PID and waits for it to exit. */
export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  process.kill(child.pid!, "SIGTERM");
  await exited;
}

/**
 * `openssl s_server -rev` (it answers each line reversed) on a free port
 * with `key`'s certificate and key, plus `args`; resolves once it accepts.
 */
export async function sServer(key: CertFiles, args: string[] = []): Promise<Peer & { port: number }> {
  const port = await freePort();
  const server = openssl([
    "s_server",
    "-accept",
    `127.0.0.1:${port}`,
    "-cert",
    key.certPath,
    "-key",
    key.keyPath,
    ...args,
    "-rev",
  ]);
  try {
    await server.until(/ACCEPT/);
  } catch (error) {
    await stop(server.child);
    throw error;
  }
  return { ...server, port };
}

/** A port nothing listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Resolves with a peer's exit code once it has exited (at most 10 s). */
export function exited(peer: Peer): Promise<number | null> {
  const child = peer.child;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still running after 10 s:\n${peer.output()}`)), 10_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}
