/**
 * Corral's `node:diagnostics_channel` telemetry, by subscribing to every
 * channel and checking the order and the payloads of what each listener
 * publishes: a normal connection, a throwing protocol, a reset, a TLS
 * handshake failure (and a good one), a PROXY header error (and a good
 * one), a connection cut by `stop()` with `"brutal"`, an idle timeout, the
 * listener's life, swallowed accept errors and the connection limit; and
 * the store bound to `corral:connection`'s start, active inside function
 * and `handler()` protocols.
 */
import assert from "node:assert/strict";
import { AsyncLocalStorage } from "node:async_hooks";
import diagnostics from "node:diagnostics_channel";
import {
  buildProxyHeader,
  type Connection,
  handler,
  HandshakeError,
  type ListenSocket,
  memory,
  type Protocol,
  ProxyHeaderError,
  tcp,
  telemetryChannels,
  TimeoutError,
  tls,
  type Transport,
} from "../mod.ts";
import { suite, test } from "./_harness.ts";
import { echo, idle, signal, start, text, waitFor } from "./_fixtures.ts";
import { connectTls, opensslMissing, serverOptions } from "./_certs.ts";

const PHASES = ["start", "end", "asyncStart", "asyncEnd", "error"] as const;
const POINTS = [
  telemetryChannels.listenerStart,
  telemetryChannels.listenerStop,
  telemetryChannels.listenerSuspend,
  telemetryChannels.listenerResume,
  telemetryChannels.acceptorError,
  telemetryChannels.connectionLimit,
  telemetryChannels.connectionShutdown,
];

type Message = Record<string, unknown>;

/** One message as it was when published (a copy: tracing contexts are filled in as they go). */
interface Event {
  label: string;
  message: Message;
}

/** Subscribes to every Corral channel and records each message, labelled `connection:start`, `listener:stop`... */
class Recorder implements Disposable {
  readonly events: Event[] = [];
  #unsubscribes: (() => void)[] = [];

  constructor() {
    for (const name of [telemetryChannels.connection, telemetryChannels.handshake]) {
      for (const phase of PHASES) this.#on(`tracing:${name}:${phase}`, `${name.slice("corral:".length)}:${phase}`);
    }
    for (const name of POINTS) this.#on(name, name.slice("corral:".length));
  }

  /** The labels of `ref`'s messages, in order; of one connection's (and the listener's) when `id` is given. */
  sequence(ref: string, id?: number): string[] {
    return this.of(ref, id).map((event) => event.label);
  }

  /** `ref`'s events (one connection's, and those without an id, when `id` is given). */
  of(ref: string, id?: number): Event[] {
    return this.events.filter((e) => e.message.ref === ref && (id === undefined || (e.message.id ?? id) === id));
  }

  /** The message of `ref`'s first event labelled `label` (of connection `id` if given). */
  message(ref: string, label: string, id?: number): Message {
    const event = this.of(ref, id).find((e) => e.label === label);
    assert.ok(event !== undefined, `no ${label} message for ${ref}`);
    return event.message;
  }

  [Symbol.dispose](): void {
    for (const unsubscribe of this.#unsubscribes) unsubscribe();
  }

  #on(channel: string, label: string): void {
    const record = (message: unknown) => void this.events.push({ label, message: { ...(message as Message) } });
    diagnostics.subscribe(channel, record);
    this.#unsubscribes.push(() => diagnostics.unsubscribe(channel, record));
  }
}

/** The messages of a connection whose protocol returned a promise, in order. */
const TRACED = ["connection:start", "handshake:start", "handshake:end", "connection:end", "handshake:asyncStart"];

const hello = (conn: Connection) => void conn;

suite("telemetry", () => {
  test("a normal tcp connection: listener and connection messages in order, with addresses and byte counts", async () => {
    using recorder = new Recorder();
    const listener = await start({ ref: "tm-normal", transport: tcp({ host: "127.0.0.1" }), protocol: echo });
    const client = await tcp().connect({ host: "127.0.0.1", port: listener.port! });
    const local = client.sockname() as { port: number };
    await client.send("hello");
    assert.equal(text(await client.recv(5, { timeout: 5000 })), "hello");
    await client.close();
    await listener.waitForConnections("==", 0);
    await listener.stop();
    assert.deepEqual(recorder.sequence("tm-normal"), [
      "listener:start",
      ...TRACED,
      "handshake:asyncEnd",
      "connection:asyncStart",
      "connection:asyncEnd",
      "listener:stop",
    ]);
    const started = recorder.message("tm-normal", "connection:start");
    assert.deepEqual(started, {
      ref: "tm-normal",
      id: 1,
      transport: "tcp",
      remoteAddress: "127.0.0.1",
      remotePort: local.port,
      localAddress: "127.0.0.1",
      localPort: listener.port,
      proxyHeader: undefined,
    });
    const ended = recorder.message("tm-normal", "connection:asyncEnd");
    assert.equal(ended.reason, "normal");
    assert.equal(ended.bytesReceived, 5);
    assert.equal(ended.bytesSent, 5);
    assert.ok((ended.recvCount as number) >= 1 && (ended.sendCount as number) >= 1);
    assert.ok(typeof ended.duration === "number" && ended.duration >= 0);
    assert.equal(ended.error, undefined);
    const handshake = recorder.message("tm-normal", "handshake:asyncEnd");
    assert.equal(handshake.outcome, "ok");
    assert.equal(handshake.id, 1);
    const { listener: published, transport, address } = recorder.message("tm-normal", "listener:start");
    assert.ok(published === listener && transport === "tcp");
    assert.deepEqual(address, listener.address);
  });

  test("a throwing protocol: start, end, error, asyncStart, asyncEnd, with the error", async () => {
    using recorder = new Recorder();
    const boom = new Error("boom");
    const throwing: Protocol = async (conn) => {
      await conn.handshake();
      throw boom;
    };
    const syncBoom = new Error("sync boom");
    const throwingAtOnce: Protocol = () => {
      throw syncBoom;
    };
    const cases: [string, Protocol, Error][] = [["tm-throw", throwing, boom], [
      "tm-sync-throw",
      throwingAtOnce,
      syncBoom,
    ]];
    for (const [ref, protocol, error] of cases) {
      await using listener = await start({ ref, transport: memory(), protocol });
      const client = await memory().connect({ name: (listener.address as { name: string }).name });
      await listener.waitForConnections("==", 0);
      await listener.stop();
      const sequence = recorder.sequence(ref).filter((label) => label.startsWith("connection:"));
      assert.deepEqual(sequence, [
        "connection:start",
        "connection:end",
        "connection:error",
        "connection:asyncStart",
        "connection:asyncEnd",
      ]);
      const failed = recorder.message(ref, "connection:error");
      assert.equal(failed.error, error);
      assert.equal(failed.reason, "error");
      await client.close();
    }
  });

  test("a peer reset: the connection ends with reason reset", async () => {
    using recorder = new Recorder();
    await using listener = await start({ ref: "tm-reset", transport: memory(), protocol: echo });
    const name = (listener.address as { name: string }).name;
    const client = await memory().connect({ name, reset: { after: 4 } });
    await client.send("12345678").catch(() => {});
    await listener.waitForConnections("==", 0);
    const ended = recorder.message("tm-reset", "connection:asyncEnd");
    assert.equal(ended.reason, "reset");
    assert.equal((ended.error as { code?: string }).code, "ECONNRESET");
    client.destroy();
  });

  test("tls: a failed handshake publishes handshake:error and ends the connection with reason error", async () => {
    using recorder = new Recorder();
    await using listener = await start({
      ref: "tm-tls",
      transport: tls(serverOptions({ alpnProtocols: ["corral"] })),
      protocol: echo,
    });
    const good = await connectTls(listener, { alpnProtocols: ["corral"] });
    assert.equal(text(await (async () => (await good.send("ok"), good.recv(2, { timeout: 5000 })))()), "ok");
    await good.close();
    await listener.waitForConnections("==", 0);
    const garbage = await tcp().connect({ host: "127.0.0.1", port: listener.port! });
    await garbage.send("GET / HTTP/1.1\r\nHost: example\r\n\r\n");
    await waitFor(() => listener.info().terminated === 2);
    const ok = recorder.message("tm-tls", "handshake:asyncEnd", 1);
    assert.equal(ok.outcome, "ok");
    assert.match(String(ok.tlsProtocol), /^TLSv1\.[23]$/);
    assert.equal(ok.alpnProtocol, "corral");
    assert.deepEqual(recorder.sequence("tm-tls", 2).filter((label) => label !== "listener:start"), [
      ...TRACED.slice(0, 4),
      "handshake:error",
      "handshake:asyncStart",
      "handshake:asyncEnd",
      "connection:error",
      "connection:asyncStart",
      "connection:asyncEnd",
    ]);
    const failed = recorder.message("tm-tls", "handshake:asyncEnd", 2);
    assert.equal(failed.outcome, "error");
    assert.ok(failed.error instanceof HandshakeError);
    assert.equal(recorder.message("tm-tls", "connection:asyncEnd", 2).reason, "error");
    await garbage.close();
  }, { skip: opensslMissing });

  test("proxyHeader: a bad header is a handshake error; a good one is in both contexts and not in the byte count", async () => {
    using recorder = new Recorder();
    await using listener = await start({ ref: "tm-proxy", transport: memory(), proxyHeader: true, protocol: echo });
    const name = (listener.address as { name: string }).name;
    const bad = await memory().connect({ name });
    await bad.send("GET / HTTP/1.1\r\n\r\n");
    await listener.waitForConnections("==", 0);
    const failed = recorder.message("tm-proxy", "handshake:error", 1);
    assert.ok(failed.error instanceof ProxyHeaderError && failed.error.code === "EPROXY_SIGNATURE");
    assert.equal(failed.outcome, "error");
    assert.equal(recorder.message("tm-proxy", "connection:asyncEnd", 1).reason, "error");

    const good = await memory().connect({ name });
    await good.send(buildProxyHeader({
      family: "inet",
      protocol: "stream",
      sourceAddress: "203.0.113.7",
      sourcePort: 40000,
      destinationAddress: "192.0.2.1",
      destinationPort: 443,
    }));
    await good.send("hi");
    assert.equal(text(await good.recv(2, { timeout: 5000 })), "hi");
    await good.close();
    await listener.waitForConnections("==", 0);
    const shaken = recorder.message("tm-proxy", "handshake:asyncEnd", 2);
    assert.equal((shaken.proxyHeader as { sourceAddress: string }).sourceAddress, "203.0.113.7");
    const ended = recorder.message("tm-proxy", "connection:asyncEnd", 2);
    assert.equal((ended.proxyHeader as { sourcePort: number }).sourcePort, 40000);
    assert.equal(ended.bytesReceived, 2);
    assert.equal(ended.reason, "normal");
    await bad.close();
  });

  test('stop() with "brutal": connection:shutdown, then the connection ends with reason brutal, once', async () => {
    using recorder = new Recorder();
    const listener = await start({ ref: "tm-brutal", transport: memory(), shutdownTimeout: "brutal", protocol: idle });
    const client = await memory().connect({ name: (listener.address as { name: string }).name });
    await listener.waitForConnections("==", 1);
    await listener.stop();
    // The protocol's own end (its recv() fails on the destroyed socket) comes later and adds nothing.
    await waitFor(() => listener.info().terminated === 1);
    assert.deepEqual(recorder.sequence("tm-brutal").slice(-4), [
      "connection:shutdown",
      "connection:asyncStart",
      "connection:asyncEnd",
      "listener:stop",
    ]);
    const shutdown = recorder.message("tm-brutal", "connection:shutdown");
    assert.equal(shutdown.reason, "shutdown");
    assert.equal(shutdown.id, 1);
    assert.equal(recorder.message("tm-brutal", "connection:asyncEnd").reason, "brutal");
    assert.equal(recorder.sequence("tm-brutal").filter((label) => label === "connection:asyncEnd").length, 1);
    client.destroy();
  });

  test("an idle timeout: connection:shutdown with a TimeoutError, and reason timeout", async () => {
    using recorder = new Recorder();
    const aborted = signal<unknown>();
    const protocol: Protocol = async (conn) => {
      await conn.handshake();
      await new Promise((resolve) => conn.signal.addEventListener("abort", resolve, { once: true }));
      aborted.resolve(conn.signal.reason);
    };
    await using listener = await start({ ref: "tm-idle", transport: memory(), idleTimeout: 40, protocol });
    const client = await memory().connect({ name: (listener.address as { name: string }).name });
    assert.ok((await aborted.promise) instanceof TimeoutError);
    await listener.waitForConnections("==", 0);
    const shutdown = recorder.message("tm-idle", "connection:shutdown");
    assert.equal(shutdown.reason, "timeout");
    assert.ok(shutdown.error instanceof TimeoutError);
    assert.deepEqual(recorder.sequence("tm-idle").slice(-3), [
      "connection:shutdown",
      "connection:asyncStart",
      "connection:asyncEnd",
    ]);
    assert.equal(recorder.message("tm-idle", "connection:asyncEnd").reason, "timeout");
    await client.close();
  });

  test("suspend and resume are published; so are the accept errors the acceptors swallow", async () => {
    using recorder = new Recorder();
    const aborted = Object.assign(new Error("software caused connection abort"), { code: "ECONNABORTED" });
    await using listener = await start({ ref: "tm-life", transport: failingOnce(memory(), aborted), protocol: hello });
    await listener.suspend();
    await listener.resume();
    const client = await memory().connect({ name: (listener.address as { name: string }).name });
    await listener.waitForConnections("==", 0);
    assert.deepEqual(recorder.sequence("tm-life").filter((label) => label.startsWith("listener")), [
      "listener:start",
      "listener:suspend",
      "listener:resume",
    ]);
    const errors = recorder.of("tm-life").filter((event) => event.label === "acceptor:error");
    assert.ok(errors.length >= 1);
    assert.deepEqual({ ...errors[0]!.message, error: undefined }, {
      ref: "tm-life",
      code: "ECONNABORTED",
      action: "retry",
      error: undefined,
    });
    assert.equal(errors[0]!.message.error, aborted);
    assert.equal(listener.info().acceptErrors.ECONNABORTED, errors.length);
    await client.close();
  });

  test("maxConnections: connection:limit says reached, then freed", async () => {
    using recorder = new Recorder();
    await using listener = await start({
      ref: "tm-limit",
      transport: memory(),
      maxConnections: 1,
      numAcceptors: 1,
      protocol: idle,
    });
    const name = (listener.address as { name: string }).name;
    const first = await memory().connect({ name });
    await listener.waitForConnections("==", 1);
    await first.close();
    await listener.waitForConnections("==", 0);
    const limits = recorder.of("tm-limit").filter((event) => event.label === "connection:limit");
    assert.deepEqual(limits.map((event) => event.message), [
      { ref: "tm-limit", state: "reached", activeConnections: 1, maxConnections: 1 },
      { ref: "tm-limit", state: "freed", activeConnections: 0, maxConnections: 1 },
    ]);
  });

  test("a store bound to connection start is active inside function and handler() protocols", async () => {
    const store = new AsyncLocalStorage<{ connection: number }>();
    const tracing = diagnostics.tracingChannel<{ connection: number }, { id: number }>(telemetryChannels.connection);
    tracing.start.bindStore(store, (context) => ({ connection: context.id }));
    const seen: string[] = [];
    const at = (where: string) => seen.push(`${where}=${store.getStore()?.connection}`);
    const pulling: Protocol = async (conn) => {
      at("call");
      const socket = await conn.handshake();
      const chunk = await socket.recv(0, { timeout: 5000 });
      at("after recv");
      setTimeout(() => at("timer"), 0);
      await socket.send(chunk!);
      await new Promise((resolve) => setTimeout(resolve, 5));
    };
    const pushing = handler({
      connection: () => void at("connection"),
      data(chunk, socket) {
        at("data");
        socket.send(chunk);
      },
      end: () => void at("end"),
      close: () => void at("close"),
    });
    try {
      for (const protocol of [pulling, pushing]) {
        await using listener = await start({ transport: tcp({ host: "127.0.0.1" }), protocol });
        const first = await tcp().connect({ host: "127.0.0.1", port: listener.port! });
        await first.send("x");
        assert.equal(text(await first.recv(1, { timeout: 5000 })), "x");
        await first.shutdown("write");
        await listener.waitForConnections("==", 0);
        await first.close();
      }
    } finally {
      tracing.start.unbindStore(store);
    }
    assert.deepEqual(seen, [
      "call=1",
      "after recv=1",
      "timer=1",
      "connection=1",
      "data=1",
      "end=1",
      "close=1",
    ]);
    assert.equal(store.getStore(), undefined);
  });
});

/** `inner` whose listen sockets fail their first accept with `error` (a real acceptor would have got it). */
function failingOnce(inner: Transport, error: Error): Transport {
  return {
    name: inner.name,
    secure: inner.secure,
    options: inner.options,
    withOptions: (options) => failingOnce(inner.withOptions(options), error),
    connect: (options) => inner.connect(options),
    handshake: (socket, timeout) => inner.handshake(socket, timeout),
    async listen(hints) {
      const socket = await inner.listen(hints);
      let failed = false;
      const failing: ListenSocket = {
        accept: () => (failed ? socket.accept() : (failed = true, Promise.reject(error))),
        close: () => socket.close(),
        get address() {
          return socket.address;
        },
      };
      return failing;
    },
  };
}
