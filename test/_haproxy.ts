/**
 * A real HAProxy for the tests (Debian package `haproxy`): a config with
 * frontend→backend pairs written to a temporary file, `haproxy -db` started
 * on it, ready once its `ready` frontend accepts, stopped by its PID; and
 * loopback ports that are never handed out twice.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type InetAddress, tcp } from "../mod.ts";

/** Whether `command args` runs (the binary is installed). */
export function installed(command: string, args: string[]): boolean {
  try {
    execFileSync(command, args, { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** Ports handed out in this process: HAProxy binds with SO_REUSEPORT, so two frontends given one port would share it. */
const handedOut = new Set<number>();

/**
 * A free TCP port on `host` (taken and released at once), never one handed
 * out before: the kernel may give a released port again at once.
 */
export async function freePort(host: string): Promise<number> {
  for (;;) {
    const socket = await tcp({ host, port: 0 }).listen();
    const port = (socket.address as InetAddress).port;
    await socket.close();
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

/** A running HAProxy; disposing of it stops it by its PID and waits for it to exit. */
export interface Haproxy extends AsyncDisposable {
  pid: number;
  output: () => string;
}

/** One frontend→backend pair of a config: `bind` and `server` lines, plus any other lines of each section. */
export interface HaproxyPair {
  bind: string;
  server: string;
  frontend?: string;
  backend?: string;
}

/**
 * Starts `haproxy -f <config> -db` (foreground) with `pairs` and a `ready`
 * frontend on a port of its own. It is ready once that frontend (which
 * rejects every connection) accepts: HAProxy binds every frontend before
 * serving any.
 */
export async function startHaproxy(pairs: HaproxyPair[]): Promise<Haproxy> {
  const readyPort = await freePort("127.0.0.1");
  const config = haproxyConfig(readyPort, pairs);
  const dir = mkdtempSync(join(tmpdir(), "corral-haproxy-cfg-"));
  const file = join(dir, "haproxy.cfg");
  writeFileSync(file, config);
  const child: ChildProcess = spawn("haproxy", ["-f", file, "-db"], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (chunk) => (output += chunk));
  child.stderr!.on("data", (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid!, "SIGTERM");
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise((resolve) => (timer = setTimeout(resolve, 5000, "late")));
      if (await Promise.race([exited, late]) === "late") process.kill(child.pid!, "SIGKILL");
      clearTimeout(timer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  // Bounded: 200 connection attempts, each answered by a refusal or an accept.
  for (let attempt = 0; attempt < 200; attempt++) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`haproxy exited with ${child.exitCode}:\n${output}`);
    }
    try {
      const probe = await tcp().connect({ host: "127.0.0.1", port: readyPort });
      probe.destroy();
      return { pid: child.pid!, output: () => output, [Symbol.asyncDispose]: stop };
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
  await stop();
  throw new Error(`haproxy did not start listening:\n${output}`);
}

const GLOBAL = `global
  maxconn 200
defaults
  mode tcp
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  timeout check 2s
`;

/** The `ready` frontend plus one frontend→backend pair per entry. */
function haproxyConfig(readyPort: number, pairs: HaproxyPair[]): string {
  let config = `${GLOBAL}frontend ready\n  bind 127.0.0.1:${readyPort}\n  tcp-request connection reject\n`;
  pairs.forEach((pair, i) => {
    config += `frontend f${i}\n  bind ${pair.bind}\n${pair.frontend ?? ""}  default_backend b${i}\n`;
    config += `backend b${i}\n${pair.backend ?? ""}  server corral ${pair.server}\n`;
  });
  return config;
}
