/**
 * Zero-downtime handover: examples/handover.ts redeployed under a client
 * loop (a shared descriptor, and the reusePort recipe with and without
 * net.ipv4.tcp_migrate_req), and handover()'s failures and checks in process.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { checkTcpMigrateReq, handover, HandoverError, memory, tcp, TimeoutError } from "../mod.ts";
import { suite, test } from "./_harness.ts";
import { echo, idle, roundTrip, start } from "./_fixtures.ts";
import { runHandoverScenario, type ScenarioResult } from "./_handover_scenario.ts";
import { nodeMajor, runtimeCommand, runtimeName } from "./_runtime.ts";

const noReusePort = runtimeName === "node" && nodeMajor < 22 && "Node.js 20 has no reusePort (UnsupportedError)";

function assertBothServed(result: ScenarioResult): void {
  const [old, next] = result.generations;
  assert.ok(old!.accepted > 0, `the old generation served nothing: ${JSON.stringify(result)}`);
  assert.ok(next!.accepted > 0, `the new generation served nothing: ${JSON.stringify(result)}`);
  // A reset connection may have been accepted (and then reset) or reset in the old socket's queue.
  const accepted = old!.accepted + next!.accepted;
  assert.ok(
    accepted >= result.ok && accepted <= result.ok + result.reset,
    `every answered client was accepted by one generation: ${accepted} accepted, ${result.ok} answered`,
  );
  assert.ok(result.readyBeforeDrained, "the old generation drained only after the new one was ready");
  assert.deepEqual(result.oldExit, { status: 0, signal: null }, "the old generation exits 0 after draining");
}

suite("handover", () => {
  test(
    "a shared descriptor: 16 clients for 2 s, switch at 0.5 s: none refused or reset, both generations serve",
    async () => {
      const result = await runHandoverScenario("descriptor");
      assert.equal(result.refused + result.reset + result.other, 0, result.failures.join("; "));
      assert.ok(result.ok > 0);
      assertBothServed(result);
    },
    { timeout: 90_000 },
  );

  test("the reusePort recipe: none refused (queued connections may be reset: counted)", async () => {
    const result = await runHandoverScenario("reusePort");
    assert.equal(result.refused, 0, result.failures.join("; "));
    assert.equal(result.other, 0, result.failures.join("; "));
    console.log(
      `# reusePort recipe with tcp_migrate_req=${migrateReq()}: ${result.reset} reset of ${result.ok + result.reset}`,
    );
    assertBothServed(result);
  }, { timeout: 90_000, skip: noReusePort });

  const unshareSkip = noReusePort ||
    (globalThis.process.getuid?.() !== 0 && "not root: unshare -n and writing tcp_migrate_req need root") ||
    (!existsSync("/usr/bin/unshare") && "unshare is missing") ||
    (migrateReq() === undefined && "no /proc/sys/net/ipv4/tcp_migrate_req (needs Linux 5.14+)");
  test(
    "the reusePort recipe in its own network namespace with tcp_migrate_req=1: none refused, none reset",
    async () => {
      const [command, args] = runtimeCommand("test/_handover_scenario.ts");
      const setUp = 'ip link set lo up && echo 1 > /proc/sys/net/ipv4/tcp_migrate_req && exec "$0" "$@"';
      const child = spawn("unshare", ["-n", "sh", "-c", setUp, command, ...args, "--handover-scenario", "reusePort"], {
        stdio: ["ignore", "pipe", "inherit"],
      });
      let out = "";
      child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
      // The scenario bounds each of its steps; this bounds the whole, below the test's own limit.
      const hung = setTimeout(() => child.kill("SIGKILL"), 80_000);
      const status = await new Promise((resolve) => child.once("close", resolve));
      clearTimeout(hung);
      const line = /^SCENARIO (.*)$/m.exec(out);
      assert.ok(status === 0 && line, `the scenario failed (status ${status}): ${out}`);
      const result = JSON.parse(line[1]!) as ScenarioResult;
      assert.equal(result.refused + result.reset + result.other, 0, result.failures.join("; "));
      assertBothServed(result);
    },
    { timeout: 90_000, skip: unshareSkip },
  );

  test("a successor that exits before it is ready: HandoverError, and the listener keeps serving", async () => {
    await using listener = await start({ transport: tcp({ host: "127.0.0.1", port: 0 }), protocol: echo });
    const port = listener.port;
    const error = await handover(listener, { command: "false" }).catch((e) => e);
    assert.ok(error instanceof HandoverError, `expected HandoverError, got ${error}`);
    assert.equal(error.code, "ESUCCESSOR_EXIT");
    assert.match(error.message, /exited with status 1/);
    assert.equal(listener.status, "running");
    assert.equal(listener.port, port);
    const client = await tcp().connect({ port: port! });
    assert.equal(await roundTrip(client, "still here"), "still here");
    await client.close();
  }, { timeout: 30_000 });

  test("a successor that never reports ready: TimeoutError at readyTimeout, and it is ended", async () => {
    await using listener = await start({ transport: tcp({ host: "127.0.0.1", port: 0 }), protocol: echo });
    const error = await handover(listener, { command: "sleep", args: ["60"], readyTimeout: 300 }).catch((e) => e);
    assert.ok(error instanceof TimeoutError, `expected TimeoutError, got ${error}`);
    assert.equal(listener.status, "running");
    const client = await tcp().connect({ port: listener.port! });
    assert.equal(await roundTrip(client, "served"), "served");
    await client.close();
  }, { timeout: 30_000 });

  test("a successor that cannot start: HandoverError, and the listener keeps serving", async () => {
    await using listener = await start({ transport: tcp({ host: "127.0.0.1", port: 0 }), protocol: idle });
    const error = await handover(listener, { command: "/nonexistent/corral-successor" }).catch((e) => e);
    // The shell starts, then cannot exec the program: it exits 127.
    assert.ok(error instanceof HandoverError, `expected HandoverError, got ${error}`);
    assert.equal(error.code, "ESUCCESSOR_EXIT");
    assert.equal(listener.status, "running");
  }, { timeout: 30_000 });

  test("misuse: a stopped or non-tcp listener, unknown options, via reusePort without reusePort", async () => {
    const listener = await start({ transport: tcp({ host: "127.0.0.1", port: 0 }), protocol: idle });
    await assert.rejects(
      handover(listener, { via: "reusePort" }),
      (e: Error) => e instanceof TypeError && /needs a listener that listens with reusePort/.test(e.message),
    );
    await assert.rejects(handover(listener, { wait: 1 } as never), /unknown option "wait"/);
    await assert.rejects(handover(listener, { readyTimeout: 0 }), RangeError);
    await assert.rejects(handover(listener, { args: ["x"] }), /args needs command/);
    await assert.rejects(handover(listener, { via: "pipe" as never }), /via must be "descriptor" or "reusePort"/);
    await assert.rejects(handover(listener, { env: { A: 1 } as never }), /env must map names to strings/);
    await listener.stop();
    await assert.rejects(handover(listener), (e: Error) => e instanceof TypeError && /is stopped/.test(e.message));
    await using inMemory = await start({ transport: memory(), protocol: idle });
    await assert.rejects(handover(inMemory), /handover\(\) hands over tcp listeners; .* listens with memory/);
  });
});

/** The host's net.ipv4.tcp_migrate_req, or `undefined` where there is none. */
function migrateReq(): string | undefined {
  try {
    return readFileSync("/proc/sys/net/ipv4/tcp_migrate_req", "utf8").trim();
  } catch {
    return undefined;
  }
}

test("checkTcpMigrateReq() is true only when the setting is 1, and warns otherwise", async () => {
  const warnings: string[] = [];
  const migrates = await checkTcpMigrateReq({ logger: { warn: (line: string) => void warnings.push(line) } });
  const value = migrateReq();
  assert.equal(migrates, value === "1");
  assert.equal(warnings.length, value === "1" ? 0 : 1);
  if (value === "0") assert.match(warnings[0]!, /tcp_migrate_req is 0: a reusePort handover resets the connections/);
  await assert.rejects(checkTcpMigrateReq({ logger: {} as never }), TypeError);
});
