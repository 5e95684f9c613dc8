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
 * @param {{ cwd: string, timeoutMs: number }} options
 * @returns {Promise<{ status: number | null, signal: string | null, timedOut: boolean, stdout: string }>}
 *   `stdout` is kept for the caller to read the summary from; both streams are copied to this process's as they come.
 */
export function runGroup(command, args, { cwd, timeoutMs }) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"], detached: true });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (text) => {
      stdout += text;
      process.stdout.write(text);
    });
    child.stderr.on("data", (bytes) => process.stderr.write(bytes));
    // Listened for from the start: the pipes may close before "exit" is emitted.
    const closed = Promise.all([child.stdout, child.stderr].map((pipe) => new Promise((done) => pipe.once("close", done))));
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
      closed.then(() => {
        clearTimeout(late);
        resolve({ status, signal, timedOut, stdout });
      });
    };
    child.once("exit", finish);
    child.once("error", (error) => {
      process.stderr.write(`${command}: ${error.message}\n`);
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
