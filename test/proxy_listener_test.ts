/**
 * Listeners with `proxyHeader` (Ranch's proxy_header_SUITE): v1 and v2
 * PROXY and v2 LOCAL over tcp, tcp6 and unix, with and without the first
 * data in the header's write; headers split across reads; missing,
 * malformed, oversized, cut-off and late headers close only their own
 * connection and are counted and logged once; `required: false`.
 */
import assert from "node:assert/strict";
import type { Listener, ListenOptions, Protocol } from "../mod.ts";
import type { ByteChannel, ChannelSink } from "../src/socket/byte_channel.ts";
import type { Connection } from "../src/connection.ts";
import { ClosedError, ProxyHeaderError } from "../src/errors.ts";
import { buildProxyHeader, type ProxyHeader, type ProxyHeaderInit } from "../src/proxy/proxy_header.ts";
import { readProxyHeader } from "../src/proxy/reader.ts";
import { StreamSocket } from "../src/socket/stream_socket.ts";
import type { Socket } from "../src/transport.ts";
import { suite, test } from "./_harness.ts";
import {
  bytes,
  concatBytes,
  pattern,
  readAll,
  RecordingLogger,
  roundTrip,
  sameBytes,
  signal,
  start,
  text,
  transports,
} from "./_fixtures.ts";

const v1Header: ProxyHeader = {
  version: 1,
  command: "proxy",
  family: "inet",
  protocol: "stream",
  sourceAddress: "203.0.113.7",
  sourcePort: 40000,
  destinationAddress: "192.0.2.1",
  destinationPort: 443,
  tlvs: {},
};
const v2Header: ProxyHeader = {
  version: 2,
  command: "proxy",
  family: "inet6",
  protocol: "stream",
  sourceAddress: "2001:db8::7",
  sourcePort: 40001,
  destinationAddress: "2001:db8::1",
  destinationPort: 8443,
  tlvs: { alpn: "h2", authority: "example.com", uniqueId: new Uint8Array([1, 2, 3]) },
};
const v2Local: ProxyHeader = { version: 2, command: "local", family: "unspec", protocol: "unspec", tlvs: {} };

/** Echo that hands each connection (after its handshake) to `seen`. */
function proxiedEcho(seen: (conn: Connection) => void) {
  return async (conn: Connection): Promise<void> => {
    const socket = await conn.handshake();
    seen(conn);
    for await (const chunk of socket) await socket.send(chunk);
  };
}

/** A protocol that reports how its handshake failed. */
function handshakeOutcome(outcome: (error: unknown) => void) {
  return async (conn: Connection): Promise<void> => {
    try {
      await conn.handshake();
      outcome(undefined);
    } catch (error) {
      outcome(error);
      throw error;
    }
  };
}

/** Resolves once the peer closed (end of stream or a reset); fails if it sends anything. */
async function closedByPeer(socket: Socket): Promise<void> {
  try {
    const rest = await readAll(socket);
    assert.equal(rest.length, 0, "the server sent nothing");
  } catch (error) {
    if (!(error instanceof ClosedError)) throw error;
  }
}

const realTransports = transports.filter((t) => t.name !== "memory");

for (const fixture of realTransports) {
  suite(`proxy listener over ${fixture.name}`, () => {
    /**
     * A listener over this fixture that reads a PROXY header before `protocol`
     * runs: `proxyHeader: true` unless `options` say otherwise.
     */
    function proxyListener(
      protocol: Protocol,
      options: Omit<ListenOptions, "transport" | "protocol"> = {},
    ): Promise<Listener<unknown>> {
      return start({ transport: fixture.make(), proxyHeader: true, ...options, protocol });
    }

    const cases: [string, ProxyHeader, ProxyHeaderInit, object][] = [
      ["v1 proxy", v1Header, v1Header, {}],
      ["v2 proxy", v2Header, v2Header, { checksum: "crc32c" }],
      ["v2 local", v2Local, v2Local, {}],
    ];
    for (const [name, expected, header, options] of cases) {
      for (const extra of [false, true]) {
        test(`${name}${extra ? " with extra data in the same write" : ""}`, async () => {
          const conn = signal<Connection>();
          await using listener = await proxyListener(proxiedEcho(conn.resolve));
          const client = await fixture.connect(listener);
          const built = buildProxyHeader(header, options);
          if (extra) {
            await client.send(concatBytes([built, bytes("extra data")]));
            assert.equal(text(await client.recv(10, { timeout: 5000 })), "extra data");
          } else {
            await client.send(built);
          }
          const accepted = await conn.promise;
          assert.deepEqual(accepted.proxyHeader, expected);
          assert.equal(await roundTrip(client, "after the header"), "after the header");
          await client.close();
        });
      }
    }

    test("a header split across writes, and a large payload in its write", async () => {
      const conn = signal<Connection>();
      await using listener = await proxyListener(proxiedEcho(conn.resolve));
      const client = await fixture.connect(listener);
      const built = buildProxyHeader(v1Header, { version: 1 });
      for (const piece of [built.subarray(0, 1), built.subarray(1, 9), built.subarray(9, 30)]) await client.send(piece);
      const payload = pattern(200_000, 5);
      const [, echoed] = await Promise.all([
        client.send(concatBytes([built.subarray(30), payload])),
        client.recv(payload.length, { timeout: 10_000 }),
      ]);
      assert.ok(sameBytes(echoed!, payload), "every byte after the header reached the protocol, in order");
      assert.deepEqual((await conn.promise).proxyHeader, v1Header);
      await client.close();
    });

    test("the largest v2 header there is", async () => {
      const conn = signal<Connection>();
      await using listener = await proxyListener(proxiedEcho(conn.resolve));
      const header: ProxyHeader = {
        ...v2Header,
        tlvs: { unknown: [{ type: 0xe0, value: pattern(65535 - 36 - 3, 2) }] },
      };
      const built = buildProxyHeader(header);
      assert.equal(built.length, 16 + 65535);
      const client = await fixture.connect(listener);
      await client.send(concatBytes([built, bytes("tail")]));
      assert.equal(text(await client.recv(4, { timeout: 5000 })), "tail");
      assert.deepEqual((await conn.promise).proxyHeader, header);
      await client.close();
    });

    test("a missing, malformed or oversized header closes only its own connection", async () => {
      const logger = new RecordingLogger();
      const errors: unknown[] = [];
      await using listener = await proxyListener(async (conn) => {
        let socket: Socket;
        try {
          socket = await conn.handshake();
        } catch (error) {
          errors.push(error);
          throw error;
        }
        for await (const chunk of socket) await socket.send(chunk);
      }, { logger });
      const good = await fixture.connect(listener);
      await good.send(buildProxyHeader(v1Header, { version: 1 }));
      assert.equal(await roundTrip(good, "still here"), "still here");
      const bad: [string, Uint8Array][] = [
        ["EPROXY_SIGNATURE", bytes("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")],
        ["EPROXY_ADDRESS", bytes("PROXY TCP4 256.0.0.1 192.0.2.1 1 2\r\nmore")],
        ["EPROXY_TOO_LONG", bytes(`PROXY UNKNOWN ${"x".repeat(200)}`)],
        [
          "EPROXY_CHECKSUM",
          (() => {
            const header = buildProxyHeader(v2Header, { checksum: "crc32c" });
            header[20]! ^= 1;
            return header;
          })(),
        ],
      ];
      for (const [code, data] of bad) {
        const client = await fixture.connect(listener);
        await client.send(data).catch(() => {}); // the server may already have closed
        await closedByPeer(client);
        await listener.waitForConnections("==", 1, { timeout: 5000 });
        const error = errors.at(-1);
        assert.ok(error instanceof ProxyHeaderError, `expected a ProxyHeaderError, got ${error}`);
        assert.equal(error.code, code);
        await client.close();
      }
      assert.equal(await roundTrip(good, "unaffected"), "unaffected");
      const info = listener.info();
      assert.equal(info.failed, bad.length);
      const warnings = logger.at("warn");
      assert.equal(warnings.length, bad.length, "each failure is logged once");
      assert.ok(warnings.some((line) => line.includes("107")), warnings.join("\n"));
      assert.equal(logger.at("error").length, 0, "a handshake failure is not logged again as a protocol error");
      await good.close();
    });

    test("a header cut off by the client's close", async () => {
      const outcome = signal<unknown>();
      await using listener = await proxyListener(handshakeOutcome(outcome.resolve));
      const client = await fixture.connect(listener);
      await client.send(buildProxyHeader(v2Header).subarray(0, 20));
      await client.shutdown("write");
      const error = await outcome.promise;
      assert.ok(error instanceof ProxyHeaderError && error.code === "EPROXY_TRUNCATED", String(error));
      await closedByPeer(client);
      await client.close();
    });

    test("a header that does not arrive in time (handshakeTimeout, then proxyHeader.timeout)", async () => {
      for (const options of [{ handshakeTimeout: 60, proxyHeader: true }, { proxyHeader: { timeout: 60 } }]) {
        const outcome = signal<unknown>();
        await using listener = await proxyListener(handshakeOutcome(outcome.resolve), options);
        const started = performance.now();
        const silent = await fixture.connect(listener);
        await silent.send(bytes("PROXY TCP4 1.2.3.4 ")); // then nothing
        const error = await outcome.promise;
        assert.ok(error instanceof ProxyHeaderError && error.code === "EPROXY_TIMEOUT", String(error));
        assert.ok(performance.now() - started >= 50, "not before the timeout");
        await closedByPeer(silent);
        await silent.close();
        await listener.waitForConnections("==", 0, { timeout: 5000 });
        assert.equal(listener.info().failed, 1);
      }
    });

    test("required: false lets a connection without a header through with its bytes intact", async () => {
      const seen: Connection[] = [];
      await using listener = await proxyListener(proxiedEcho((conn) => seen.push(conn)), {
        proxyHeader: { required: false },
      });
      // "PING" shares its first byte with "PROXY", "\r\n\r\nX" its first four with the v2 signature.
      for (const greeting of ["hello", "PING\r\n", "PROX!", "\r\n\r\nX"]) {
        const client = await fixture.connect(listener);
        assert.equal(await roundTrip(client, greeting), greeting);
        assert.equal(await roundTrip(client, " and more"), " and more");
        await client.close();
      }
      const short = await fixture.connect(listener);
      await short.send("PRO");
      await short.shutdown("write");
      assert.equal(text(await readAll(short)), "PRO", "bytes before end of stream are given back too");
      await short.close();
      const proxied = await fixture.connect(listener);
      await proxied.send(concatBytes([buildProxyHeader(v2Header), bytes("x")]));
      assert.equal(text(await proxied.recv(1, { timeout: 5000 })), "x");
      await proxied.close();
      assert.equal(seen.length, 6);
      assert.deepEqual(seen.map((conn) => conn.proxyHeader?.sourceAddress), [
        undefined,
        undefined,
        undefined,
        undefined,
        undefined,
        "2001:db8::7",
      ]);
      // A confirmed signature makes the header mandatory again.
      const outcome = signal<unknown>();
      await using strict = await proxyListener(handshakeOutcome(outcome.resolve), {
        proxyHeader: { required: false },
      });
      const broken = await fixture.connect(strict);
      await broken.send("PROXY TCP9 1.2.3.4 5.6.7.8 1 2\r\n");
      const error = await outcome.promise;
      assert.ok(error instanceof ProxyHeaderError && error.code === "EPROXY_SYNTAX", String(error));
      await closedByPeer(broken);
      await broken.close();
    });
  });
}

suite("proxy listener options", () => {
  test("proxyHeader is undefined without the option, and before the handshake", async () => {
    const before = signal<unknown>();
    const after = signal<unknown>();
    await using listener = await start({
      transport: realTransports[0]!.make(),
      protocol: async (conn) => {
        before.resolve(conn.proxyHeader);
        await conn.handshake();
        after.resolve(conn.proxyHeader);
      },
    });
    const client = await realTransports[0]!.connect(listener);
    await client.send(buildProxyHeader(v1Header, { version: 1 })); // just bytes to this listener
    assert.equal(await before.promise, undefined);
    assert.equal(await after.promise, undefined);
    await client.close();
  });

  test("listen() checks the option", async () => {
    const transport = realTransports[0]!.make();
    const bad: [unknown, ErrorConstructor | TypeErrorConstructor | RangeErrorConstructor][] = [
      ["yes", TypeError],
      [1, TypeError],
      [{ timeout: -1 }, RangeError],
      [{ timeout: 1.5 }, RangeError],
      [{ required: "no" }, TypeError],
      [{ requried: false }, TypeError],
    ];
    for (const [proxyHeader, type] of bad) {
      await assert.rejects(
        start({ transport, protocol: () => {}, proxyHeader: proxyHeader as boolean }),
        (error: Error) => error instanceof type && /proxyHeader/.test(error.message),
        `proxyHeader ${JSON.stringify(proxyHeader)}`,
      );
    }
    await using ok = await start({ transport, protocol: () => {}, proxyHeader: { timeout: Infinity, required: true } });
    assert.equal(ok.status, "running");
  });
});

/** A channel driven by hand: the test decides exactly which chunks arrive, and when. */
class ScriptedChannel implements ByteChannel {
  sink: ChannelSink | undefined;
  written: Uint8Array[] = [];
  start(sink: ChannelSink): void {
    this.sink = sink;
  }
  pause(): void {}
  resume(): void {}
  write(chunk: Uint8Array): boolean {
    this.written.push(chunk);
    return true;
  }
  end(): void {}
  close(): void {
    this.sink?.onClose();
  }
  destroy(): void {
    this.sink?.onClose();
  }
  setNoDelay(): void {}
  setKeepAlive(): void {}
  readonly localAddress = { name: "scripted" };
  readonly remoteAddress = { name: "scripted-peer" };
}

suite("proxy header reader", () => {
  /** Delivers `chunks` one at a time, each only once the reader waits for more. */
  async function readFrom(chunks: Uint8Array[], required = true) {
    const channel = new ScriptedChannel();
    const socket = new StreamSocket(channel);
    const reading = readProxyHeader(socket, { timeout: 5000, required });
    for (const chunk of chunks) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      channel.sink!.onData(chunk);
    }
    return { read: await reading, socket, channel };
  }

  test("one byte per read: the header, and not one byte more", async () => {
    for (
      const header of [buildProxyHeader(v1Header, { version: 1 }), buildProxyHeader(v2Header, { checksum: "crc32c" })]
    ) {
      const data = concatBytes([header, bytes("next")]);
      const { read, socket } = await readFrom([...data].map((b) => new Uint8Array([b])));
      assert.equal(read.header?.sourcePort, header[0] === 0x50 ? 40000 : 40001);
      assert.equal(read.socket, socket, "no wrapper: nothing was read past the header");
      assert.equal(text(await socket.recv(4)), "next");
    }
  });

  test("header and data in one chunk: the data stays in the socket", async () => {
    const data = concatBytes([buildProxyHeader(v2Header), bytes("payload")]);
    const { read, socket } = await readFrom([data]);
    assert.deepEqual(read.header, v2Header);
    assert.equal(read.socket, socket);
    assert.equal(text(await socket.recv(0)), "payload");
  });

  test("required: false puts the bytes it looked at back into the same socket", async () => {
    const { read, socket } = await readFrom([bytes("PR"), bytes("IVMSG")], false);
    assert.equal(read.header, undefined);
    assert.equal(read.socket, socket, "the transport's handshake must see the socket it accepted");
    assert.equal(text(await read.socket.recv(3)), "PRI");
    assert.equal(text(await read.socket.recv(4)), "VMSG");
  });

  test("required: false over a socket that cannot take bytes back: they come first from a wrapper", async () => {
    const channel = new ScriptedChannel();
    const inner = new StreamSocket(channel);
    // Only recv(): not a StreamSocket, so the reader cannot unshift into it.
    const foreign = { recv: (length?: number, options?: { timeout?: number }) => inner.recv(length, options) };
    const reading = readProxyHeader(foreign as unknown as Socket, { timeout: 5000, required: false });
    channel.sink!.onData(bytes("GET /"));
    const read = await reading;
    assert.equal(read.header, undefined);
    assert.notEqual(read.socket, foreign);
    assert.equal(text(await read.socket.recv(5)), "GET /");
  });

  test("a reset while reading is a cut-off header", async () => {
    const channel = new ScriptedChannel();
    const socket = new StreamSocket(channel);
    const reading = readProxyHeader(socket, { timeout: 5000, required: true });
    channel.sink!.onData(bytes("PROXY TCP4"));
    channel.sink!.onError(Object.assign(new Error("reset"), { code: "ECONNRESET" }));
    channel.sink!.onClose();
    await assert.rejects(
      reading,
      (error: Error) => error instanceof ProxyHeaderError && error.code === "EPROXY_TRUNCATED",
    );
  });
});
