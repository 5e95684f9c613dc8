/**
 * The transport conformance suite over tls on this runtime: every Socket
 * behaviour the other transports pass, over a TLS listener and client on
 * 127.0.0.1 (also with `detectTruncation`, whose TLS runs over a carrier),
 * and over tcp connections both sides upgrade with STARTTLS (the
 * `upgrade()` path).
 */
import { type Socket, tcp, type TcpOptions, type Transport } from "../mod.ts";
import { tls } from "../transports/tls.ts";
import { suite, test } from "./_harness.ts";
import { defineConformance } from "./_conformance.ts";
import type { TransportFixture } from "./_fixtures.ts";
import { connectTls, opensslMissing, serverOptions, testCerts } from "./_certs.ts";
import { runtimeName } from "./_runtime.ts";

const tlsFixture: TransportFixture = {
  name: "tls",
  secure: true,
  make: () => tls(serverOptions()),
  connect: (listener) => connectTls(listener),
};

/** Both ends with `detectTruncation`: node:tls over a carrier Corral reads, on every runtime. */
const carriedFixture: TransportFixture = {
  name: "tls detectTruncation",
  secure: true,
  make: () => tls(serverOptions({ detectTruncation: true })),
  connect: (listener) => connectTls(listener, { detectTruncation: true }),
  skip: (name) => bunHalfClose(name),
};

/** tcp whose server-side handshake is a STARTTLS upgrade with the test certificate. */
function starttls(options: TcpOptions): Transport<TcpOptions> {
  const plain = tcp(options);
  const certs = testCerts();
  const upgrader = tls({ cert: certs.server.cert, key: certs.server.key });
  return {
    name: "tcp+starttls",
    secure: true,
    options: plain.options,
    withOptions: (more) => starttls({ ...options, ...more }),
    listen: () => plain.listen(),
    connect: (o) => plain.connect(o as { port: number }),
    handshake: (socket: Socket, timeout: number) => upgrader.upgrade(socket, { isServer: true, timeout }),
  };
}

/**
 * The cases where the client half-closes and then waits for the server's
 * reply. On Bun a server whose TLS runs over a carrier (a STARTTLS upgrade,
 * a listener with `detectTruncation`) is Bun's `node:tls` over a JS stream
 * (its `UpgradedDuplex`), which ends its own sending side when the peer's
 * close_notify arrives (over a `node:net` socket it does not); the server's
 * send then fails with `ClosedError` `EPIPE`, as test/tls_test.ts checks.
 */
const HALF_CLOSE_THEN_REPLY = [
  "4 MiB echoed intact while both sides stream",
  "recv returns null at end of stream and async iteration ends",
  "shutdown(write) half-closes: the peer reads EOF and can still reply",
  "send waits while the peer does not read, and nothing is lost",
  "readable and writable Web Streams carry the bytes",
];

/** Why `name` cannot run on a Bun server over a carrier, or `undefined`. */
function bunHalfClose(name: string): string | undefined {
  return runtimeName === "bun" && HALF_CLOSE_THEN_REPLY.includes(name)
    ? "Bun 1.4.5: node:tls over a JS stream (its UpgradedDuplex) stops sending once the client half-closes"
    : undefined;
}

const starttlsFixture: TransportFixture = {
  name: "tcp+starttls",
  secure: true,
  make: () => starttls({ host: "127.0.0.1", port: 0 }),
  connect: async (listener) => {
    const socket = await tcp().connect({ port: listener.port! });
    return tls().upgrade(socket, { serverName: "localhost", ca: testCerts().ca });
  },
  skip: (name) => bunHalfClose(name),
};

if (opensslMissing) {
  test("conformance tls", () => {}, { skip: opensslMissing });
} else {
  suite("conformance tls", () => defineConformance(tlsFixture));
  suite("conformance tls detectTruncation", () => defineConformance(carriedFixture));
  suite("conformance tcp+starttls", () => defineConformance(starttlsFixture));
}
