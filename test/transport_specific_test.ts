/**
 * Cases that belong to one transport: unix socket files (Ranch's
 * tcp_local_echo), memory names, and reusePort per runtime.
 */
import assert from "node:assert/strict";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { ListenError, memory, tcp, unix, UnsupportedError } from "../mod.ts";
import { suite, test } from "./_harness.ts";
import { echo, idle, roundTrip, socketPath, start } from "./_fixtures.ts";
import { nodeMajor, runtimeName } from "./_runtime.ts";

suite("unix", () => {
  test("tcp_local_echo: echo over a socket file, gone after stop", async () => {
    const path = socketPath();
    const listener = await start({ transport: unix({ path }), protocol: echo });
    assert.deepEqual(listener.address, { path });
    assert.equal(listener.port, undefined);
    assert.ok(existsSync(path));
    const client = await unix().connect({ path });
    assert.equal(await roundTrip(client, "local"), "local");
    await client.close();
    await listener.stop();
    assert.equal(existsSync(path), false, "the socket file is removed on stop");
  });

  test("a stale socket file is replaced; a live one is EADDRINUSE; a regular file is left alone", async () => {
    const path = socketPath();
    const first = await start({ transport: unix({ path }), protocol: idle });
    const error = await start({ transport: unix({ path }), protocol: idle }).catch((e) => e);
    assert.ok(error instanceof ListenError);
    assert.equal(error.code, "EADDRINUSE");
    await first.suspend(); // closes the listen socket; the file goes with it
    await first.stop();
    const file = socketPath();
    writeFileSync(file, "not a socket");
    const regular = await start({ transport: unix({ path: file }), protocol: idle }).catch((e) => e);
    assert.ok(regular instanceof ListenError, `expected ListenError, got ${regular}`);
    assert.equal(existsSync(file), true);
    rmSync(file);
  });

  test("suspend removes the file and resume recreates it", async () => {
    const path = socketPath();
    await using listener = await start({ transport: unix({ path }), protocol: echo });
    await listener.suspend();
    assert.equal(existsSync(path), false);
    await listener.resume();
    const client = await unix().connect({ path });
    assert.equal(await roundTrip(client, "again"), "again");
    await client.close();
  });
});

suite("memory", () => {
  test("a duplicate name fails like a taken port", async () => {
    await using first = await start({ transport: memory({ name: "taken" }), protocol: idle });
    const error = await start({ transport: memory({ name: "taken" }), protocol: idle }).catch((e) => e);
    assert.ok(error instanceof ListenError);
    assert.equal(error.code, "EADDRINUSE");
    assert.deepEqual(first.address, { name: "taken" });
  });

  test("a listener without a name gets a fresh one, kept across suspend/resume", async () => {
    await using listener = await start({ transport: memory(), protocol: echo });
    const name = (listener.address as { name: string }).name;
    await listener.suspend();
    await assert.rejects(memory().connect({ name }), (e: { code?: string }) => e.code === "ECONNREFUSED");
    await listener.resume();
    const client = await memory().connect({ name });
    assert.equal(await roundTrip(client, "named"), "named");
    await client.close();
  });
});

suite("reusePort", () => {
  // Node.js gained SO_REUSEPORT for net servers in 22.12. Deno's Deno.listen
  // has it only with --unstable-net (which also brings Deno.listenDatagram);
  // the suite runs Deno without that flag, as users do by default, so there
  // the listen sockets are Deno's node:net servers. Bun has it.
  const unsupported = runtimeName === "node" && nodeMajor < 22;
  test(unsupported ? "is UnsupportedError on this Node.js" : "two listen sockets share one port", async () => {
    const transport = tcp({ host: "127.0.0.1", port: 0, reusePort: true });
    if (unsupported) {
      const error = await start({ transport, protocol: idle }).catch((e) => e);
      assert.ok(error instanceof UnsupportedError, `expected UnsupportedError, got ${error}`);
      assert.equal(error.option, "reusePort");
      return;
    }
    await using listener = await start({ transport, numListenSockets: 2, protocol: echo });
    for (let i = 0; i < 8; i++) {
      const client = await tcp().connect({ port: listener.port! });
      assert.equal(await roundTrip(client, `c${i}`), `c${i}`);
      await client.close();
    }
    assert.equal(listener.info().numListenSockets, 2);
  });
});
