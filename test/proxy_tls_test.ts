/**
 * PROXY header before TLS: the header is read in plain text, then the TLS
 * handshake runs over the same connection, the ClientHello included even
 * when it came in the header's own write — on a `tls` listener with
 * `proxyHeader` (which then accepts plain TCP and handshakes in
 * `conn.handshake()`), and on a `tcp` listener whose protocol upgrades.
 */
import assert from "node:assert/strict";
import { type Connection, tcp } from "../mod.ts";
import { buildProxyHeader, type ProxyHeader } from "../src/proxy/proxy_header.ts";
import type { Socket } from "../src/transport.ts";
import { tls } from "../transports/tls.ts";
import { suite, test } from "./_harness.ts";
import { opensslMissing, testCerts } from "./_certs.ts";
import { roundTrip, signal, start, waitFor } from "./_fixtures.ts";

const header: ProxyHeader = {
  version: 2,
  command: "proxy",
  family: "inet",
  protocol: "stream",
  sourceAddress: "198.51.100.20",
  sourcePort: 51000,
  destinationAddress: "192.0.2.10",
  destinationPort: 443,
  tlvs: { authority: "localhost" },
};

/**
 * `socket` with `prefix` sent in front of its first write: the client's TLS
 * layer then sends its ClientHello in the very write that carries the header.
 */
function prefixFirstWrite(socket: Socket, prefix: Uint8Array): Socket {
  let first = true;
  return new Proxy(socket, {
    get(target, property) {
      if (property === "send") {
        return (data: Uint8Array | string) => {
          if (!first) return target.send(data);
          first = false;
          const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
          const out = new Uint8Array(prefix.length + bytes.length);
          out.set(prefix);
          out.set(bytes, prefix.length);
          return target.send(out);
        };
      }
      const value = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

suite("proxy header before tls", () => {
  const skip = opensslMissing;

  for (const together of [false, true]) {
    test(
      `header, then a TLS handshake over the same connection${together ? " (ClientHello in the header's write)" : ""}`,
      async () => {
        const certs = testCerts();
        const seen = signal<{ conn: Connection; secure: Socket }>();
        await using listener = await start({
          transport: tcp({ host: "127.0.0.1" }),
          proxyHeader: true,
          protocol: async (conn) => {
            const plain = await conn.handshake();
            const secure = await tls({ cert: certs.server.cert, key: certs.server.key }).upgrade(plain, {
              isServer: true,
            });
            seen.resolve({ conn, secure });
            for await (const chunk of secure) await secure.send(chunk);
          },
        });
        const raw = await tcp().connect({ port: listener.port! });
        const built = buildProxyHeader(header, { checksum: "crc32c" });
        if (!together) await raw.send(built);
        const carrier = together ? prefixFirstWrite(raw, built) : raw;
        const client = await tls().upgrade(carrier, { serverName: "localhost", ca: certs.ca });
        assert.equal(await roundTrip(client, "secret after the header"), "secret after the header");
        const { conn, secure } = await seen.promise;
        assert.deepEqual(conn.proxyHeader, header);
        assert.equal(secure.secure, true);
        await client.close();
      },
      { skip },
    );
  }

  for (const together of [false, true]) {
    test(
      `a tls listener with proxyHeader reads the header, then handshakes${together ? " (one write)" : ""}`,
      async () => {
        const certs = testCerts();
        const seen = signal<Connection>();
        await using listener = await start({
          transport: tls({
            host: "127.0.0.1",
            cert: certs.server.cert,
            key: certs.server.key,
            alpnProtocols: ["echo"],
          }),
          proxyHeader: true,
          protocol: async (conn) => {
            const socket = await conn.handshake();
            assert.equal(socket.secure, true);
            seen.resolve(conn);
            for await (const chunk of socket) await socket.send(chunk);
          },
        });
        const raw = await tcp().connect({ port: listener.port! });
        const built = buildProxyHeader(header, { checksum: "crc32c" });
        if (!together) await raw.send(built);
        const carrier = together ? prefixFirstWrite(raw, built) : raw;
        const client = await tls().upgrade(carrier, { serverName: "localhost", ca: certs.ca, alpnProtocols: ["echo"] });
        assert.equal(await roundTrip(client, "over tls, behind a proxy"), "over tls, behind a proxy");
        assert.equal(client.tls?.alpnProtocol, "echo");
        assert.deepEqual((await seen.promise).proxyHeader, header);
        await client.close();
      },
      { skip },
    );
  }

  test("a tls listener with proxyHeader refuses a connection without a header, and no one else", async () => {
    const certs = testCerts();
    await using listener = await start({
      transport: tls({ host: "127.0.0.1", cert: certs.server.cert, key: certs.server.key }),
      proxyHeader: true,
      protocol: async (conn) => {
        const socket = await conn.handshake();
        for await (const chunk of socket) await socket.send(chunk);
      },
    });
    // A TLS client that skips the header: its ClientHello is not a PROXY signature.
    const error = await tls().connect({ port: listener.port!, serverName: "localhost", ca: certs.ca }).then(
      (socket) => socket.recv(0, { timeout: 5000 }).finally(() => socket.close()),
      (e) => e,
    );
    assert.ok(error === null || error instanceof Error, `the connection was not refused: ${error}`);
    await waitFor(() => listener.info().failed === 1);
    const raw = await tcp().connect({ port: listener.port! });
    await raw.send(buildProxyHeader(header));
    const client = await tls().upgrade(raw, { serverName: "localhost", ca: certs.ca });
    assert.equal(await roundTrip(client, "still serving"), "still serving");
    await client.close();
  }, { skip });
  test(
    "listeners sharing one tls() value keep their own ways: PROXY first on one, TLS first on the other",
    async () => {
      const certs = testCerts();
      const shared = tls({ host: "127.0.0.1", cert: certs.server.cert, key: certs.server.key });
      const echo = async (conn: Connection) => {
        const socket = await conn.handshake();
        for await (const chunk of socket) await socket.send(chunk);
      };
      await using proxied = await start({ transport: shared, proxyHeader: true, protocol: echo });
      await using direct = await start({ transport: shared, protocol: echo });
      // A plain TCP connection handed to the shared value is still not a TLS listener's connection.
      const refused = signal<unknown>();
      await using plain = await start({
        transport: tcp({ host: "127.0.0.1" }),
        protocol: async (conn) => {
          refused.resolve(await shared.handshake(await conn.handshake(), 5000).then(() => "upgraded", (e) => e));
        },
      });

      const viaProxy = await tcp().connect({ port: proxied.port! });
      await viaProxy.send(buildProxyHeader(header));
      const first = await tls().upgrade(viaProxy, { serverName: "localhost", ca: certs.ca });
      const second = await tls().connect({ port: direct.port!, serverName: "localhost", ca: certs.ca });
      assert.equal(await roundTrip(first, "behind the proxy"), "behind the proxy");
      assert.equal(await roundTrip(second, "straight to tls"), "straight to tls");

      const bystander = await tcp().connect({ port: plain.port! });
      const error = await refused.promise;
      assert.ok(error instanceof TypeError, `handshake() of a plain tcp connection: ${error}`);
      await Promise.all([first.close(), second.close(), bystander.close()]);
    },
    { skip },
  );

  test("an optional PROXY header that is absent: the ClientHello stays in the socket and TLS goes on", async () => {
    const certs = testCerts();
    const seen = signal<Connection>();
    await using listener = await start({
      transport: tls({ host: "127.0.0.1", cert: certs.server.cert, key: certs.server.key }),
      proxyHeader: { required: false },
      protocol: async (conn) => {
        const socket = await conn.handshake();
        seen.resolve(conn);
        for await (const chunk of socket) await socket.send(chunk);
      },
    });
    const client = await tls().connect({ port: listener.port!, serverName: "localhost", ca: certs.ca });
    assert.equal(await roundTrip(client, "no header at all"), "no header at all");
    assert.equal((await seen.promise).proxyHeader, undefined);
    await client.close();
  }, { skip });
});
