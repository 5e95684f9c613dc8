/**
 * Real brokers for the cluster tests: `nats-server` and `redis-server`
 * (Debian packages; `.ci/run` installs them) started on a free loopback
 * port, killed with SIGKILL and restarted on the same port, and asked how
 * many subscriptions they hold.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./_tls_peers.ts";

/** A broker process this test started. */
export interface Broker extends AsyncDisposable {
  /** `"nats"` or `"redis"`. */
  readonly kind: BrokerKind;
  /** Its client port on 127.0.0.1. */
  readonly port: number;
  /** `nats://127.0.0.1:PORT` or `redis://127.0.0.1:PORT`. */
  readonly url: string;
  /** Client subscriptions the broker holds now (NATS: from its monitoring port; Redis: `PUBSUB NUMSUB`). */
  subscriptions(channel: string): Promise<number>;
  /** SIGKILL, and waits for the exit. */
  kill(): Promise<void>;
  /** Starts it again on the same port (after `kill`). */
  restart(): Promise<void>;
}

export type BrokerKind = "nats" | "redis";

/** Whether the broker's server binary is on this machine. */
export function brokerMissing(kind: BrokerKind): string | undefined {
  const binary = kind === "nats" ? "nats-server" : "redis-server";
  const found = spawnSync(binary, ["--version"], { stdio: "ignore" });
  return found.error === undefined ? undefined : `${binary} is not installed (.ci/run installs it with apt-get)`;
}

/** Spawns `command` and resolves once a line of its output matches `ready` (at most 10 s). */
function startProcess(command: string, args: string[], ready: RegExp): Promise<ChildProcess> {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => fail(new Error(`${command} did not start in 10 s:\n${output}`)), 10_000);
    const onData = (data: Uint8Array) => {
      output += new TextDecoder().decode(data);
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    const fail = (error: Error) => {
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(error);
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("error", fail);
    child.once("exit", (code) => fail(new Error(`${command} exited with ${code} before it was ready:\n${output}`)));
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** Starts a broker of `kind` on a free port. */
export async function startBroker(kind: BrokerKind): Promise<Broker> {
  const port = await freePort();
  const monitor = kind === "nats" ? await freePort() : 0;
  const dir = mkdtempSync(join(tmpdir(), `corral-${kind}-`));
  const launch = () =>
    kind === "nats"
      ? startProcess("nats-server", ["-a", "127.0.0.1", "-p", `${port}`, "-m", `${monitor}`], /Server is ready/)
      : startProcess(
        "redis-server",
        ["--bind", "127.0.0.1", "--port", `${port}`, "--save", "", "--appendonly", "no", "--dir", dir],
        /Ready to accept connections/,
      );
  let child: ChildProcess | undefined = await launch();
  const kill = async () => {
    if (child === undefined) return;
    const dying = child;
    child = undefined;
    dying.kill("SIGKILL");
    await exited(dying);
  };
  return {
    kind,
    port,
    url: `${kind}://127.0.0.1:${port}`,
    subscriptions: (channel) => kind === "nats" ? natsSubscriptions(monitor, channel) : redisSubscriptions(port, channel),
    kill,
    async restart() {
      child ??= await launch();
    },
    async [Symbol.asyncDispose]() {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Subscriptions to `subject` over every client connection, from nats-server's `/connz`. */
async function natsSubscriptions(monitor: number, subject: string): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${monitor}/connz?subs=1`);
  const body = await response.json() as { connections?: { subscriptions_list?: string[] }[] };
  let count = 0;
  for (const connection of body.connections ?? []) {
    for (const name of connection.subscriptions_list ?? []) if (name === subject) count++;
  }
  return count;
}

/** `PUBSUB NUMSUB channel`, asked with redis-cli. */
function redisSubscriptions(port: number, channel: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn("redis-cli", ["-h", "127.0.0.1", "-p", `${port}`, "PUBSUB", "NUMSUB", channel]);
    let output = "";
    child.stdout.on("data", (data: Uint8Array) => (output += new TextDecoder().decode(data)));
    child.once("error", reject);
    child.once("exit", (code) => {
      const count = Number(output.trim().split("\n")[1]);
      if (code === 0 && Number.isInteger(count)) resolve(count);
      else reject(new Error(`redis-cli PUBSUB NUMSUB ${channel} gave ${JSON.stringify(output)} (exit ${code})`));
    });
  });
}
