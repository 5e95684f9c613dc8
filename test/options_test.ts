/**
 * Invalid options fail at listen() (or at the transport factory) with a
 * TypeError or RangeError naming the option and what it accepts.
 */
import assert from "node:assert/strict";
import { listen, memory, tcp, unix } from "../mod.ts";
import { suite, test } from "./_harness.ts";
import { idle, start } from "./_fixtures.ts";

const base = () => ({ transport: memory(), protocol: idle });

suite("options", () => {
  const cases: [string, Record<string, unknown>, typeof TypeError | typeof RangeError, RegExp][] = [
    ["numAcceptors 0", { numAcceptors: 0 }, RangeError, /numAcceptors must be an integer from 1 to 1024, got 0/],
    ["numAcceptors string", { numAcceptors: "10" }, TypeError, /numAcceptors must be a number/],
    [
      "numListenSockets above numAcceptors",
      { numAcceptors: 2, numListenSockets: 3 },
      RangeError,
      /numListenSockets must be an integer from 1 to 2/,
    ],
    [
      "maxConnections 0",
      { maxConnections: 0 },
      RangeError,
      /^listen\(\) option maxConnections must be an integer from 1 to Infinity, got 0$/,
    ],
    ["maxConnections NaN", { maxConnections: NaN }, TypeError, /^listen\(\) option maxConnections must be/],
    ["handshakeTimeout negative", { handshakeTimeout: -1 }, RangeError, /handshakeTimeout must be an integer from 0/],
    ["shutdownTimeout word", { shutdownTimeout: "soon" }, TypeError, /shutdownTimeout \(or "brutal"\)/],
    ["protocol missing", { protocol: undefined }, TypeError, /protocol must be a function/],
    ["transport wrong", { transport: { port: 80 } }, TypeError, /transport must be a transport/],
    ["unknown option", { maxConnection: 10 }, TypeError, /unknown option "maxConnection"/],
    ["logger incomplete", { logger: { info() {} } }, TypeError, /logger must have debug, info, warn, error/],
    ["ref empty", { ref: "" }, TypeError, /ref must be a non-empty string/],
    ["proxyHeader string", { proxyHeader: "yes" }, TypeError, /proxyHeader/],
  ];
  for (const [name, patch, kind, message] of cases) {
    test(`listen() rejects ${name}`, async () => {
      const error = await listen({ ...base(), ...patch } as never).catch((e) => e);
      assert.ok(error instanceof kind, `expected ${kind.name}, got ${error}`);
      assert.match(error.message, message);
    });
  }

  test("numListenSockets > 1 needs reusePort", async () => {
    const error = await listen({ ...base(), transport: tcp({ port: 0 }), numListenSockets: 2 }).catch((e) => e);
    assert.ok(error instanceof RangeError);
    assert.match(error.message, /numListenSockets must be 1 unless the transport listens with reusePort/);
    const forUnix = await listen({ ...base(), transport: unix({ path: "/tmp/x.sock" }), numListenSockets: 2 }).catch((
      e,
    ) => e);
    assert.ok(forUnix instanceof RangeError);
  });

  test("transport factories reject bad options by name", () => {
    assert.throws(() => tcp({ port: 70000 }), /tcp\(\) option port must be an integer from 0 to 65535, got 70000/);
    assert.throws(() => tcp({ port: -1 }), RangeError);
    assert.throws(() => tcp({ noDelay: "yes" as never }), /tcp\(\) option noDelay must be true or false/);
    assert.throws(() => tcp({ hots: "x" } as never), /unknown option "hots"/);
    assert.throws(() => unix({ path: "" }), /unix\(\) option path must be a non-empty string/);
    assert.throws(() => memory({ window: 0 }), RangeError);
  });

  test("maxConnections setter validates", async () => {
    await using listener = await start(base());
    assert.throws(
      () => (listener.maxConnections = -5),
      (e: unknown) =>
        e instanceof RangeError &&
        /^listener\.maxConnections must be an integer from 1 to Infinity, got -5$/.test(e.message),
    );
    assert.throws(
      () => (listener.maxConnections = "9" as never),
      /TypeError: listener\.maxConnections must be a number/,
    );
    assert.equal(listener.maxConnections, 1024);
  });

  test("connect() validates its options", async () => {
    await assert.rejects(tcp().connect({ port: 0 }), RangeError);
    await assert.rejects(tcp().connect({} as never), TypeError);
    await assert.rejects(memory().connect({ name: "" }), TypeError);
  });
});
