/**
 * Worker mode: `startWorkers()` threads serving one port through
 * `reusePort`, their crashes and restarts, `info()` and a graceful `stop()`;
 * where the runtime has no `reusePort`, an `UnsupportedError` before any
 * thread starts. Functional checks, not scaling: this machine has 2 cores.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { availableParallelism } from "node:os";
import { createInterface } from "node:readline";
import {
  ClosedError,
  type Logger,
  serveWorker,
  type Socket,
  startWorkers,
  tcp,
  TimeoutError,
  UnsupportedError,
  WorkerError,
  type WorkerPool,
} from "../mod.ts";
import { suite, test } from "./_harness.ts";
import { RecordingLogger } from "./_fixtures.ts";
import { nodeMajor, runtimeCommand, runtimeLabel, runtimeName } from "./_runtime.ts";

// "../test/" resolves to this folder from test/main.ts and from the Node.js 20 bundle in .test-build/.
const idWorker = new URL("../test/_id_worker.ts", import.meta.url);
const brokenWorker = new URL("../test/_broken_worker.ts", import.meta.url);

/** Why this runtime cannot run worker mode (what tcp({ reusePort: true }) says), or undefined. */
async function reusePortProblem(): Promise<string | undefined> {
  try {
    await (await tcp({ host: "127.0.0.1", port: 0, reusePort: true }).listen()).close();
    return undefined;
  } catch (error) {
    if (error instanceof UnsupportedError) return error.message;
    throw error;
  }
}
const problem = await reusePortProblem();
const needsWorkers = problem === undefined ? false : `${runtimeLabel} cannot share a port: ${problem}`;

/** A logger that records, and resolves `restarted(id)` when the pool logs that worker's restart. */
class PoolLogger extends RecordingLogger implements Logger {
  #waiting: { id: number; resolve: () => void }[] = [];
  override info(message: string, ...details: unknown[]): void {
    super.info(message, ...details);
    for (const waiter of this.#waiting) if (message.includes(`worker ${waiter.id} restarted`)) waiter.resolve();
  }
  restarted(id: number): Promise<void> {
    if (this.at("info").some((line) => line.includes(`worker ${id} restarted`))) return Promise.resolve();
    return new Promise((resolve) => this.#waiting.push({ id, resolve }));
  }
}

const decoder = new TextDecoder();

/** Connects and reads the id line the answering worker sends. */
async function connectToWorker(port: number): Promise<{ id: string; socket: Socket }> {
  const socket = await tcp().connect({ host: "127.0.0.1", port });
  const line = decoder.decode((await socket.recv(2, { timeout: 10_000 }))!);
  return { id: line.trim(), socket };
}

/** One connection: which worker answered. */
async function askId(port: number): Promise<string> {
  const { id, socket } = await connectToWorker(port);
  await socket.close();
  return id;
}

function start(options: { count?: number; data?: unknown; logger?: Logger; startTimeout?: number } = {}) {
  return startWorkers({ module: idWorker, count: 2, logger: new PoolLogger(), ...options });
}

/**
 * Connects to `port` and expects ECONNREFUSED. With `retryFor` (ms), asks again every 20 ms until then: a killed
 * thread's listen socket is closed by the runtime's teardown of that thread, which Deno and Bun finish a moment after
 * the thread's `exit` event (seen with `ss -ltn` on Deno 2.9: two sockets still listening right after `kill()`
 * resolved, under load).
 */
async function expectRefused(port: number, retryFor = 0): Promise<void> {
  const until = performance.now() + retryFor;
  for (;;) {
    const error = await tcp().connect({ host: "127.0.0.1", port }).then((s) => s.close(), (e) => e);
    if (error instanceof ClosedError && error.code === "ECONNREFUSED") return;
    assert.ok(performance.now() < until, `expected ECONNREFUSED${retryFor ? ` within ${retryFor} ms` : ""}, got ${error}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

suite("workers", () => {
  test("2 workers on port 0 answer 200 connections: each worker at least 40 times, as info() counts", async () => {
    await using pool = await start();
    assert.ok(pool.port > 0);
    assert.deepEqual(pool.workers.map((w) => [w.id, w.status, w.restarts]), [[1, "running", 0], [2, "running", 0]]);
    const counts: Record<string, number> = {};
    for (let i = 0; i < 200; i++) {
      const id = await askId(pool.port);
      counts[id] = (counts[id] ?? 0) + 1;
    }
    // reusePort hashes each connection to one of 2 sockets: 100 expected each, 40 is 8 standard deviations below.
    assert.deepEqual(Object.keys(counts).sort(), ["1", "2"]);
    assert.ok(counts["1"]! >= 40 && counts["2"]! >= 40, `uneven: ${JSON.stringify(counts)}`);
    const info = await pool.info();
    assert.equal(info.port, pool.port);
    assert.equal(info.accepted, 200);
    for (const worker of info.workers) {
      assert.equal(worker.responsive, true);
      assert.equal(worker.listeners.length, 1);
      assert.equal(worker.listeners[0]!.port, pool.port);
      assert.equal(worker.listeners[0]!.accepted, counts[String(worker.id)]);
    }
  }, { skip: needsWorkers, timeout: 60_000 });

  test("a killed worker is restarted while the other one answers every connection", async () => {
    const logger = new PoolLogger();
    await using pool = await start({ logger });
    const seen = new Set<string>();
    for (let i = 0; i < 500 && seen.size < 2; i++) seen.add(await askId(pool.port));
    assert.equal(seen.size, 2);
    await pool.workers[0]!.kill();
    assert.equal(pool.workers[0]!.status, "restarting");
    const restarted = logger.restarted(1);
    let back = false;
    void restarted.then(() => (back = true));
    // Every connection is answered throughout; while worker 1 has no thread, only worker 2 can answer.
    let answeredByTwo = 0;
    let answeredByNewOne = 0;
    const resets: string[] = [];
    for (let i = 0; i < 3000 && !(back && answeredByNewOne > 0); i++) {
      const status = pool.workers[0]!.status;
      const id = await askId(pool.port).catch((error) => {
        // Deno closes a terminated worker's sockets a moment after it reports the thread ended: a connection
        // the kernel queued on the killed worker's socket meanwhile is reset (reusePort cannot move it).
        if (runtimeName !== "deno" || status !== "restarting" || error?.code !== "ECONNRESET") throw error;
        resets.push(String(error));
        return "reset";
      });
      if (id === "2") answeredByTwo++;
      else if (id === "1") {
        assert.notEqual(pool.workers[0]!.status, "restarting", "answered by a worker that was killed");
        answeredByNewOne++;
      } else assert.equal(id, "reset");
    }
    assert.ok(back && answeredByNewOne > 0, "worker 1 did not come back within 3000 connections");
    assert.ok(answeredByTwo > resets.length, `worker 2 answered ${answeredByTwo}, ${resets.length} reset`);
    assert.equal(pool.workers[0]!.restarts, 1);
    assert.equal(pool.workers[1]!.restarts, 0);
    assert.match(logger.at("error")[0]!, /worker 1 was killed; restarting in 100 ms/);
  }, { skip: needsWorkers, timeout: 60_000 });

  test("a worker that crashes on an uncaught error is logged with the error and restarted", async () => {
    const logger = new PoolLogger();
    await using pool = await start({ logger });
    const { id, socket } = await connectToWorker(pool.port);
    await socket.send("crash\n");
    await logger.restarted(Number(id));
    await socket.close();
    const crashed = pool.workers[Number(id) - 1]!;
    assert.equal(crashed.restarts, 1);
    assert.equal(crashed.status, "running");
    const [line] = logger.at("error");
    assert.match(
      line!,
      new RegExp(`worker ${id} crashed \\(exit code \\d+(: Error: worker ${id} crashes on request)?\\)`),
    );
    // Both serve again.
    const seen = new Set<string>();
    for (let i = 0; i < 500 && seen.size < 2; i++) seen.add(await askId(pool.port));
    assert.equal(seen.size, 2);
  }, { skip: needsWorkers, timeout: 60_000 });

  test("info() reports a blocked worker unresponsive; kill() ends it and it comes back", async () => {
    const logger = new PoolLogger();
    await using pool = await start({ logger });
    const { id, socket } = await connectToWorker(pool.port);
    await socket.send("block\n");
    // The blocked worker cannot answer within info()'s second; the other one does.
    let info = await pool.info();
    for (let i = 0; i < 20 && info.workers[Number(id) - 1]!.responsive; i++) info = await pool.info();
    const blocked = info.workers[Number(id) - 1]!;
    const other = info.workers[2 - Number(id)]!;
    assert.deepEqual([blocked.status, blocked.responsive, blocked.listeners], ["running", false, []]);
    assert.equal(other.responsive, true);
    await pool.workers[Number(id) - 1]!.kill();
    await logger.restarted(Number(id));
    await socket.close();
    info = await pool.info();
    assert.ok(info.workers.every((w) => w.status === "running" && w.responsive), JSON.stringify(info.workers));
  }, { skip: needsWorkers, timeout: 60_000 });

  test("stop() waits for each worker's connections within shutdownTimeout, then ends every thread", async () => {
    const pool = await start();
    const clients: { id: string; socket: Socket }[] = [];
    const ids = new Set<string>();
    for (let i = 0; i < 40 && ids.size < 2; i++) {
      const client = await connectToWorker(pool.port);
      await client.socket.send("hold\n");
      clients.push(client);
      ids.add(client.id);
    }
    assert.equal(ids.size, 2, "both workers hold a connection");
    const info = await pool.info();
    assert.equal(info.activeConnections, clients.length);
    const stopped = pool.stop();
    for (const { socket } of clients) {
      assert.equal(decoder.decode((await socket.recv(4, { timeout: 10_000 }))!), "bye\n");
    }
    // Each worker's listener waits (shutdownTimeout 10 s) for its connections, still open here.
    let done = false;
    void stopped.then(() => (done = true));
    await Promise.resolve();
    assert.equal(done, false);
    for (const { socket } of clients) await socket.close();
    await stopped;
    assert.deepEqual(pool.workers.map((w) => w.status), ["stopped", "stopped"]);
    assert.equal(pool.stop(), stopped);
    await expectRefused(pool.port);
    const after = await pool.info();
    assert.ok(after.workers.every((w) => !w.responsive && w.listeners.length === 0));
  }, { skip: needsWorkers, timeout: 60_000 });

  test("stop() during a restart ends everything: the killed worker is not started again", async () => {
    const pool = await start();
    await pool.workers[1]!.kill();
    assert.equal(pool.workers[1]!.status, "restarting");
    await pool.stop();
    assert.deepEqual(pool.workers.map((w) => [w.status, w.restarts]), [["stopped", 0], ["stopped", 0]]);
    await expectRefused(pool.port, 2_000);
    await pool.workers[1]!.kill(); // nothing to kill any more
    assert.equal(pool.workers[1]!.status, "stopped");
  }, { skip: needsWorkers, timeout: 60_000 });

  test("a worker whose start function throws fails startWorkers() with WorkerError naming it", async () => {
    const error = await start({ count: 3, data: { mode: "fail 2" } }).then(stopAnyway, (e) => e);
    assert.ok(error instanceof WorkerError, `got ${error}`);
    assert.equal(error.code, "EWORKER");
    assert.equal(error.workerId, 2);
    assert.match(error.message, /worker 2 failed to start: Error: worker 2 refuses to start \(EREFUSE\)/);
    assert.equal((error.cause as { code?: string }).code, "EREFUSE");
  }, { skip: needsWorkers, timeout: 60_000 });

  test("a module that throws before serveWorker() fails startWorkers() with WorkerError", async () => {
    const error = await startWorkers({ module: brokenWorker, count: 2, logger: new PoolLogger() })
      .then(stopAnyway, (e) => e);
    assert.ok(error instanceof WorkerError && error.workerId === 1, `got ${error}`);
    assert.match(error.message, /worker 1 exited with code \d+ before it reported ready/);
  }, { skip: needsWorkers, timeout: 60_000 });

  test("a worker that never reports ready fails startWorkers() with TimeoutError after startTimeout", async () => {
    const error = await start({ data: { mode: "hang" }, startTimeout: 500 }).then(stopAnyway, (e) => e);
    assert.ok(error instanceof TimeoutError, `got ${error}`);
    assert.match(error.message, /worker 1 did not report ready within 500 ms/);
  }, { skip: needsWorkers, timeout: 60_000 });

  test("count defaults to the available parallelism", async () => {
    await using pool = await startWorkers({ module: idWorker, logger: new PoolLogger() });
    assert.equal(pool.workers.length, availableParallelism());
    assert.deepEqual(pool.workers.map((w) => w.id), Array.from({ length: availableParallelism() }, (_, i) => i + 1));
  }, { skip: needsWorkers, timeout: 60_000 });

  test("options are checked before anything starts", async () => {
    const cases: [unknown, ErrorConstructor, RegExp][] = [
      [{ module: "_id_worker.ts" }, TypeError, /option module must be a URL/],
      [{ module: idWorker, count: 0 }, RangeError, /option count must be an integer from 1 to 1024, got 0/],
      [{ module: idWorker, count: 1.5 }, RangeError, /option count/],
      [{ module: idWorker, port: 70000 }, RangeError, /option port must be an integer from 0 to 65535/],
      [{ module: idWorker, startTimeout: 0 }, RangeError, /option startTimeout/],
      [{ module: idWorker, data: { f() {} } }, TypeError, /option data must be structured-cloneable/],
      [{ module: idWorker, logger: {} }, TypeError, /option logger must have/],
      [{ module: idWorker, workers: 2 }, TypeError, /unknown option "workers"/],
      [undefined, TypeError, /needs an options object/],
    ];
    for (const [options, type, message] of cases) {
      await assert.rejects(startWorkers(options as never), (error: Error) => {
        assert.ok(error instanceof type, `${JSON.stringify(options)}: got ${error}`);
        assert.match(error.message, message);
        return true;
      });
    }
  });

  test("serveWorker() outside a pool's worker thread rejects with TypeError", async () => {
    await assert.rejects(serveWorker(() => []), /serveWorker\(\) runs only in a worker thread started by startWorkers/);
    await assert.rejects(serveWorker(42 as never), /start must be a function/);
  });

  test("startWorkers() fails with UnsupportedError exactly where tcp({ reusePort: true }) does", async () => {
    const result = await start({ count: 1 }).then(stopAnyway, (e) => e);
    if (problem === undefined) {
      assert.equal(result, "started");
    } else {
      assert.ok(result instanceof UnsupportedError, `got ${result}`);
      assert.equal(result.option, "startWorkers");
      assert.match(result.message, /worker threads share one port through reusePort/);
    }
  }, { timeout: 60_000 });

  test("Node.js 20: startWorkers() throws UnsupportedError (no reusePort before Node.js 22.12)", async () => {
    const error = await start().then(stopAnyway, (e) => e);
    assert.ok(error instanceof UnsupportedError, `got ${error}`);
    assert.equal(error.code, "EUNSUPPORTED");
    assert.equal(error.runtime, `node ${globalThis.process.versions.node}`);
    assert.match(error.message, /^startWorkers is not supported on node 20\.[\d.]+: .*reusePort.*Node\.js 22\.12/);
  }, { skip: nodeMajor === 20 ? false : "runs on Node.js 20 only" });

  for (const flag of [[], ["--unstable-net"]]) {
    const how = flag.length === 0 ? "without --unstable-net" : "with --unstable-net";
    test(
      `Deno ${how}, in a subprocess: worker mode serves, or is UnsupportedError; exit status 0, never 70`,
      async () => {
        const [command, args] = runtimeCommand("test/_workers_child.ts");
        const child = spawn(command, [args[0]!, ...flag, ...args.slice(1)], { stdio: ["ignore", "pipe", "inherit"] });
        const lines: string[] = [];
        createInterface({ input: child.stdout! }).on("line", (line) => lines.push(line));
        const status = await new Promise((resolve) => child.once("close", resolve));
        assert.equal(status, 0, `exit status ${status}: ${lines.join("\n")}`);
        const result = JSON.parse(lines.at(-1)!) as { ids?: Record<string, number>; unsupported?: string };
        if (result.unsupported !== undefined) {
          assert.equal(flag.length, 0, `unsupported even ${how}: ${result.unsupported}`);
          assert.match(result.unsupported, /--unstable-net/);
        } else {
          // 100 connections over 2 sockets: 20 is 6 standard deviations below the expected 50.
          assert.ok(result.ids!["1"]! >= 20 && result.ids!["2"]! >= 20, `uneven: ${lines.at(-1)}`);
        }
      },
      { skip: runtimeName === "deno" ? false : "runs on Deno only", timeout: 60_000 },
    );
  }

  test("examples/echo.ts --workers 2 echoes from worker threads, and SIGTERM stops them all with exit 0", async () => {
    // Node.js from 22.18 runs the example as TypeScript, so its worker module resolves beside it; a bundle
    // (scripts/run.mjs, for Node.js 20) would look for it beside the bundle.
    const [command, args] = nodeMajor >= 23
      ? [globalThis.process.execPath, ["--disable-warning=ExperimentalWarning", "examples/echo.ts"]]
      : runtimeCommand("examples/echo.ts");
    const child = spawn(command, [...args, "--port", "0", "--workers", "2"], { stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once("close", resolve));
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const { value } = await lines.next();
    if (problem !== undefined) {
      assert.equal(await exited, 1);
      assert.match(stderr, /^echo: startWorkers is not supported on .*reusePort/);
      return;
    }
    try {
      const match = /^echo listening on 127\.0\.0\.1:(\d+) with 2 worker threads$/.exec(String(value));
      assert.ok(match, `unexpected first line: ${value}; stderr: ${stderr}`);
      for (let i = 0; i < 4; i++) {
        const client = await tcp().connect({ host: "127.0.0.1", port: Number(match[1]) });
        await client.send(`ping ${i}\n`);
        assert.equal(decoder.decode((await client.recv(7, { timeout: 10_000 }))!), `ping ${i}\n`);
        await client.close();
      }
    } finally {
      // Not child.kill(): after it, Deno 2.9's child_process reports the signal as the cause of the exit,
      // whatever the status.
      globalThis.process.kill(child.pid!, "SIGTERM");
    }
    assert.equal(await exited, 0, stderr);
  }, { timeout: 60_000 });
});

/** For a start expected to fail: stops a pool that started anyway, and says so. */
async function stopAnyway(pool: WorkerPool): Promise<string> {
  await pool.stop();
  return "started";
}
