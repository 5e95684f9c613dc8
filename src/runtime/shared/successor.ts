/**
 * Starting a handover's successor with `node:child_process`, which Node.js,
 * Deno and Bun all implement with extra descriptors in `stdio` (neither
 * `Deno.Command` nor `Bun.spawn`'s documented options pass a descriptor
 * above 2), and the successor's side of the ready report.
 *
 * The successor starts through `/bin/sh -c 'LISTEN_PID=$$ ... exec'`: the
 * shell learns its own pid, exports it and replaces itself with the program,
 * so the program sees `LISTEN_PID` equal to its pid as under systemd (no
 * runtime lets a parent set a variable between fork and exec).
 *
 * @module
 */
import { type ChildProcess, spawn, type StdioOptions } from "node:child_process";
import { closeSync, readFileSync, writeSync } from "node:fs";
import { HandoverError } from "../../handover/handover_error.ts";
import { UnsupportedError } from "../../errors.ts";
import type { Successor, SuccessorConfig } from "../adapter.ts";

const EXPORT_PID_AND_EXEC = 'LISTEN_PID=$$; export LISTEN_PID; exec "$0" "$@"';
/** Ms a failed successor has to exit after SIGTERM before it gets SIGKILL. */
const KILL_AFTER = 5_000;

/**
 * This process's command line with the runtime's absolute path first: from
 * `/proc/self/cmdline` on Linux, which holds every flag as typed (Deno
 * reports none of its own flags, such as permissions, anywhere else), else
 * from `execArgv` and `argv`.
 */
function sameProgram(runtime: string): string[] {
  const proc = globalThis.process;
  try {
    const parts = readFileSync("/proc/self/cmdline", "utf8").split("\0");
    if (parts.at(-1) === "") parts.pop();
    if (parts.length > 0) return [proc.execPath, ...parts.slice(1)];
  } catch {
    // Not Linux: fall through.
  }
  if (runtime.startsWith("deno")) {
    throw new UnsupportedError(
      "handover() without a command",
      runtime,
      "outside Linux, Deno tells neither its flags nor its permissions: give handover() a command and args",
    );
  }
  return [proc.execPath, ...proc.execArgv, ...proc.argv.slice(1)];
}

/**
 * Starts the successor. `stopsAcceptingAtSpawn`: this runtime's spawn
 * leaves the passed sockets in blocking mode until the successor listens on
 * them (Deno 2.9 clears `O_NONBLOCK` on every descriptor it passes, and the
 * flag belongs to the socket both processes share), so this process stops
 * accepting before its event loop turns again.
 */
export function spawnSuccessor(config: SuccessorConfig, runtime: string, stopsAcceptingAtSpawn: boolean): Successor {
  const [program, ...args] = config.command === undefined ? sameProgram(runtime) : [config.command, ...config.args];
  const readyFd = 3 + config.fds.length;
  const stdio: StdioOptions = ["inherit", "inherit", "inherit", ...config.fds, "pipe"];
  const child = spawn("/bin/sh", ["-c", EXPORT_PID_AND_EXEC, program!, ...args], { stdio, env: config.env });
  if (stopsAcceptingAtSpawn && config.fds.length > 0) config.stopAccepting();
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    pid: child.pid ?? -1,
    ready: readyReport(child, readyFd, program!),
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
      child.kill("SIGTERM");
      // A successor that ignores SIGTERM must not hold the handover forever.
      const timer = setTimeout(() => child.kill("SIGKILL"), KILL_AFTER);
      await exited;
      clearTimeout(timer);
    },
    release: () => {
      child.stdio[readyFd]?.destroy();
      child.unref();
    },
  };
}

/** Resolves on the successor's `READY=1` line; rejects when it cannot start or exits first. */
function readyReport(child: ChildProcess, readyFd: number, program: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = "";
    const pipe = child.stdio[readyFd];
    const done = () => {
      pipe?.off("data", onData);
      child.off("exit", onExit);
      child.off("error", onError);
    };
    const onData = (chunk: Uint8Array | string) => {
      text += typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk);
      if (!/^READY=1$/m.test(text)) return;
      done();
      resolve();
    };
    const onExit = (status: number | null, signal: string | null) => {
      done();
      const how = signal !== null ? `was killed by ${signal}` : `exited with status ${status}`;
      reject(new HandoverError("ESUCCESSOR_EXIT", `the successor (${program}) ${how} before it reported ready`));
    };
    const onError = (error: Error) => {
      done();
      reject(
        new HandoverError("ESPAWN", `cannot start the successor (${program}): ${error.message}`, { cause: error }),
      );
    };
    pipe?.on("data", onData);
    // An unread pipe end must not fail the handover (the successor may close it at exit).
    pipe?.on("error", () => {});
    child.once("exit", onExit);
    child.once("error", onError);
  });
}

/** Writes `text` to `fd` and closes it: the successor's side of the ready report. */
export function writeAndClose(fd: number, text: string): Promise<void> {
  try {
    try {
      writeSync(fd, text);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    return Promise.reject(error);
  }
  return Promise.resolve();
}
