/**
 * Runs one command in a process group of its own, streams its output, and
 * kills the whole group when the command exits or runs out of time.
 *
 * Why: a test runtime that crashes leaves its children (a broker, a chat
 * server, ncat) running, and they hold the stdout and stderr they inherited.
 * Run under `npm test | tee`, that one orphan kept CI's pipe open until CI
 * gave up on the whole run. Killing the group once the runtime is gone ends
 * them all, and the pipes close with them.
 *
 * @module
 */
import { spawn } from "node:child_process";

/**
 * @param {string} command
 * @param {string[]} args
 * @param {{ cwd?: string, env?: NodeJS.ProcessEnv, timeoutMs: number, echo?: boolean }} options
 *   `echo` (default true) copies the command's stdout and stderr to this process's as they arrive.
 * @returns {Promise<{ status: number | null, signal: string | null, timedOut: boolean, stdout: string, stderr: string }>}
 */
export function runGroup(command, args, { cwd, env, timeoutMs, echo = true }) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (text) => {
      stdout += text;
      if (echo) process.stdout.write(text);
    });
    child.stderr.setEncoding("utf8").on("data", (text) => {
      stderr += text;
      if (echo) process.stderr.write(text);
    });
    // Listened for from the start: the pipes may close before "exit" is emitted.
    const stdoutClosed = new Promise((done) => child.stdout.once("close", done));
    const stderrClosed = new Promise((done) => child.stderr.once("close", done));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, timeoutMs);
    let finished = false;
    const finish = (status, signal) => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      killGroup(child.pid);
      // The pipes close once every member of the group is gone; a process that left the group (setsid) and
      // still holds them must not hold this run too.
      const late = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
      }, 5_000);
      Promise.all([stdoutClosed, stderrClosed]).then(() => {
        clearTimeout(late);
        resolve({ status, signal, timedOut, stdout, stderr });
      });
    };
    child.once("exit", finish);
    child.once("error", (error) => {
      stderr += `${error}\n`;
      if (echo) process.stderr.write(`${command}: ${error.message}\n`);
      finish(null, null);
    });
  });
}

function killGroup(pid) {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // ESRCH: the group is already gone.
  }
}
