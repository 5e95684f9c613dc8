/**
 * A real HAProxy in front of Corral listeners: HAProxy (Debian package
 * `haproxy`) is started on loopback ports with a config this test writes,
 * clients connect through it, and the Corral protocol must see the
 * client's own address and port (from the PROXY header), not HAProxy's,
 * over `send-proxy` (v1), `send-proxy-v2` (with CRC32C and UNIQUE_ID),
 * `send-proxy-v2-ssl` and `send-proxy-v2-ssl-cn` (HAProxy terminates the
 * client's TLS, certificates made with the openssl CLI), health checks
 * (v2 LOCAL), IPv6, and a unix socket listener. HAProxy is stopped by its
 * PID after each test. Skipped, saying why, when haproxy or openssl is missing.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as nodeTls from "node:tls";
import {
  type Connection,
  type InetAddress,
  type Listener,
  type ListenOptions,
  type Protocol,
  tcp,
  type Transport,
  unix,
} from "../mod.ts";
import type { ProxyHeader } from "../src/proxy/proxy_header.ts";
import { tls } from "../transports/tls.ts";
import { testCerts } from "./_certs.ts";
import { suite, test } from "./_harness.ts";
import { bytes, roundTrip, signal, socketPath, start, text } from "./_fixtures.ts";
import { freePort, installed, startHaproxy } from "./_haproxy.ts";

const missing = !installed("haproxy", ["-v"])
  ? "haproxy is not installed (Debian package haproxy)"
  : !installed("openssl", ["version"])
  ? "openssl is not installed"
  : undefined;

/** A CA, a server certificate for HAProxy and a client certificate; disposing removes them. */
interface Certificates extends Disposable {
  dir: string;
  caPem: string;
  haproxyPem: string; // certificate then key, as HAProxy's `crt` wants
  clientCert: string;
  clientKey: string;
}

function makeCertificates(): Certificates {
  const dir = mkdtempSync(join(tmpdir(), "corral-haproxy-"));
  const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
  openssl("req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=corral-test-ca", "-days", "2");
  for (const [name, cn, serial] of [["server", "localhost", "2"], ["client", "corral-client", "3"]]) {
    openssl("req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`);
    openssl(
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-set_serial",
      serial!,
      "-out",
      `${name}.crt`,
      "-days",
      "2",
    );
  }
  const read = (name: string) => execFileSync("cat", [join(dir, name)], { encoding: "utf8" });
  writeFileSync(join(dir, "haproxy.pem"), read("server.crt") + read("server.key"));
  return {
    dir,
    caPem: read("ca.pem"),
    haproxyPem: join(dir, "haproxy.pem"),
    clientCert: read("client.crt"),
    clientKey: read("client.key"),
    [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Echo that reports each connection and the raw peer HAProxy connected from. */
function recordingEcho(seen: (conn: Connection, rawPeer: InetAddress | { path: string }) => void) {
  return async (conn: Connection): Promise<void> => {
    const socket = await conn.handshake();
    seen(conn, socket.peername() as InetAddress);
    for await (const chunk of socket) await socket.send(chunk);
  };
}

/** Connects a TLS client to HAProxy's TLS frontend (HAProxy terminates TLS). */
function tlsClient(certs: Certificates, port: number, withCertificate: boolean): Promise<nodeTls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = nodeTls.connect({
      host: "127.0.0.1",
      port,
      servername: "example.org",
      ca: certs.caPem,
      checkServerIdentity: () => undefined, // the certificate names localhost, SNI says example.org
      ALPNProtocols: ["h2"],
      ...(withCertificate ? { cert: certs.clientCert, key: certs.clientKey } : {}),
    });
    socket.once("secureConnect", () => resolve(socket));
    socket.once("error", reject);
  });
}

function tlsRoundTrip(socket: nodeTls.TLSSocket, data: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = "";
    const onData = (chunk: Uint8Array) => {
      received += new TextDecoder().decode(chunk);
      if (received.length >= data.length) {
        socket.off("data", onData);
        resolve(received);
      }
    };
    socket.on("data", onData);
    socket.once("error", reject);
    socket.write(data);
  });
}

function collect(): {
  next: () => Promise<{ conn: Connection; rawPeer: InetAddress }>;
  protocol: ReturnType<typeof recordingEcho>;
} {
  const queue: { conn: Connection; rawPeer: InetAddress }[] = [];
  let waiting: ((value: { conn: Connection; rawPeer: InetAddress }) => void) | undefined;
  return {
    protocol: recordingEcho((conn, rawPeer) => {
      const item = { conn, rawPeer: rawPeer as InetAddress };
      if (waiting !== undefined) {
        const resolve = waiting;
        waiting = undefined;
        resolve(item);
      } else {
        queue.push(item);
      }
    }),
    next: () => {
      const item = queue.shift();
      if (item !== undefined) return Promise.resolve(item);
      return new Promise((resolve) => (waiting = resolve));
    },
  };
}

/** A Corral listener for HAProxy to send PROXY headers to: tcp on 127.0.0.1 unless told otherwise. */
function proxiedListener(
  protocol: Protocol,
  transport: Transport = tcp({ host: "127.0.0.1" }),
  proxyHeader: ListenOptions["proxyHeader"] = true,
): Promise<Listener<unknown>> {
  return start({ transport, proxyHeader, protocol });
}

function corralAddress(listener: Listener<unknown>): string {
  const address = listener.address!;
  return "path" in address ? address.path : `127.0.0.1:${(address as InetAddress).port}`;
}

/** A logger that keeps the lines about connections and accepts; `reached` resolves at `n` of them or of `count()` calls. */
function countingLogger(n: number) {
  const lines: string[] = [];
  let seen = 0;
  const reached = signal();
  const count = () => {
    if (++seen === n) reached.resolve();
  };
  const record = (level: string) => (message: string) => {
    if (!/connection \d+ from|accept failed/.test(message)) return;
    lines.push(`${level} ${message}`);
    count();
  };
  const logger = { debug: record("debug"), info: record("info"), warn: record("warn"), error: record("error") };
  return { lines, reached: reached.promise, count, logger };
}

suite("haproxy", () => {
  const skip = missing ?? false;

  test("send-proxy and send-proxy-v2 over IPv4 and IPv6: the protocol sees the client's address", async () => {
    const seen = collect();
    await using listener = await proxiedListener(seen.protocol);
    const ports = {
      v1: await freePort("127.0.0.1"),
      v2: await freePort("127.0.0.1"),
      v1six: await freePort("::1"),
      v2six: await freePort("::1"),
    };
    const server = corralAddress(listener);
    await using haproxy = await startHaproxy([
      { bind: `127.0.0.1:${ports.v1}`, server: `${server} send-proxy` },
      {
        bind: `127.0.0.1:${ports.v2}`,
        frontend: "  unique-id-format %{+X}o\\ %ci:%cp_%fi:%fp_%Ts_%rt:%pid\n",
        server: `${server} send-proxy-v2 proxy-v2-options crc32c,unique-id`,
      },
      { bind: `[::1]:${ports.v1six}`, server: `${server} send-proxy` },
      { bind: `[::1]:${ports.v2six}`, server: `${server} send-proxy-v2` },
    ]);
    assert.ok(haproxy.pid > 0);
    for (
      const [name, host, port, version] of [
        ["v1", "127.0.0.1", ports.v1, 1],
        ["v2", "127.0.0.1", ports.v2, 2],
        ["v1 IPv6", "::1", ports.v1six, 1],
        ["v2 IPv6", "::1", ports.v2six, 2],
      ] as const
    ) {
      const client = await tcp().connect({ host, port });
      assert.equal(await roundTrip(client, `hello through haproxy ${name}`), `hello through haproxy ${name}`);
      const { conn, rawPeer } = await seen.next();
      const header = conn.proxyHeader as ProxyHeader;
      const local = client.sockname() as InetAddress;
      assert.equal(header.version, version, name);
      assert.equal(header.command, "proxy");
      assert.equal(header.family, host === "::1" ? "inet6" : "inet");
      assert.equal(header.protocol, "stream");
      assert.equal(header.sourceAddress, local.address, `${name}: the client's own address`);
      assert.equal(header.sourcePort, local.port, `${name}: the client's own port`);
      assert.equal(header.destinationAddress, host);
      assert.equal(header.destinationPort, port, `${name}: the port the client dialled on HAProxy`);
      assert.notEqual(rawPeer.port, local.port, "the raw socket's peer is HAProxy, not the client");
      if (name === "v2") assert.ok((header.tlvs.uniqueId?.length ?? 0) > 0, "HAProxy's unique-id TLV came through");
      await client.close();
    }
  }, { skip, timeout: 30_000 });

  test("send-proxy-v2-ssl and send-proxy-v2-ssl-cn: HAProxy terminates TLS and says so", async () => {
    using certs = makeCertificates();
    const seen = collect();
    await using listener = await proxiedListener(seen.protocol);
    const ssl = await freePort("127.0.0.1");
    const sslCn = await freePort("127.0.0.1");
    const server = corralAddress(listener);
    const bind = `ssl crt ${certs.haproxyPem} ca-file ${join(certs.dir, "ca.pem")} verify optional alpn h2,http/1.1`;
    await using _haproxy = await startHaproxy([
      { bind: `127.0.0.1:${ssl} ${bind}`, server: `${server} send-proxy-v2-ssl proxy-v2-options authority` },
      {
        bind: `127.0.0.1:${sslCn} ${bind}`,
        server: `${server} send-proxy-v2-ssl-cn proxy-v2-options ssl-cipher,cert-sig,cert-key,authority,crc32c`,
      },
    ]);

    const plain = await tlsClient(certs, ssl, false);
    assert.equal(await tlsRoundTrip(plain, "over tls"), "over tls");
    const first = await seen.next();
    const header = first.conn.proxyHeader!;
    assert.equal(header.sourcePort, plain.localPort);
    assert.equal(header.sourceAddress, "127.0.0.1");
    assert.equal(header.destinationPort, ssl);
    assert.equal(header.tlvs.authority, "example.org", "the SNI the client sent");
    assert.equal(header.tlvs.alpn, "h2");
    assert.equal(header.tlvs.ssl?.ssl, true);
    assert.equal(header.tlvs.ssl?.certificateOnConnection, false);
    assert.equal(header.tlvs.ssl?.version, plain.getProtocol());
    plain.destroy();

    const withCert = await tlsClient(certs, sslCn, true);
    assert.equal(await tlsRoundTrip(withCert, "with a certificate"), "with a certificate");
    const second = await seen.next();
    const ssl2 = second.conn.proxyHeader!.tlvs.ssl!;
    assert.equal(second.conn.proxyHeader!.sourcePort, withCert.localPort);
    assert.equal(ssl2.ssl, true);
    assert.equal(ssl2.certificateOnConnection, true);
    assert.equal(ssl2.verified, true);
    assert.equal(ssl2.commonName, "corral-client");
    assert.equal(ssl2.version, withCert.getProtocol());
    assert.equal(ssl2.keyAlgorithm, "EC256");
    assert.ok(ssl2.signatureAlgorithm?.includes("SHA256"), ssl2.signatureAlgorithm);
    assert.equal(ssl2.cipher, withCert.getCipher().standardName);
    withCert.destroy();
  }, { skip, timeout: 30_000 });

  test("health checks with check-send-proxy arrive as v2 LOCAL", async () => {
    const seen = collect();
    await using listener = await proxiedListener(seen.protocol);
    const front = await freePort("127.0.0.1");
    await using _haproxy = await startHaproxy([{
      bind: `127.0.0.1:${front}`,
      // A check that waits for an answer: a connect-only check resets at once, and Deno's
      // accept() fails (ENOTCONN) for a connection reset before it was accepted.
      backend: "  option tcp-check\n  tcp-check send ping\\n\n  tcp-check expect string ping\n",
      server: `${corralAddress(listener)} send-proxy-v2 check check-send-proxy inter 100`,
    }]);
    const { conn } = await seen.next();
    assert.deepEqual(conn.proxyHeader, {
      version: 2,
      command: "local",
      family: "unspec",
      protocol: "unspec",
      tlvs: {},
    });
  }, { skip, timeout: 30_000 });

  test("health checks HAProxy resets after the answer are logged with HAProxy's address", async () => {
    const outcomes = countingLogger(3);
    await using listener = await start({
      transport: tcp({ host: "127.0.0.1" }),
      proxyHeader: true,
      logger: outcomes.logger,
      protocol: async (conn) => {
        const socket = await conn.handshake();
        for await (const chunk of socket) await socket.send(chunk);
      },
    });
    const front = await freePort("127.0.0.1");
    await using _haproxy = await startHaproxy([{
      bind: `127.0.0.1:${front}`,
      backend: "  option tcp-check\n  tcp-check send ping\\n\n  tcp-check expect string ping\n",
      server: `${corralAddress(listener)} send-proxy-v2 check check-send-proxy inter 100`,
    }]);
    // HAProxy ends each check with a reset: the echo's read fails, and the log must name the
    // peer although the socket is gone by then (it read "from :0" on Node.js and Bun).
    await outcomes.reached;
    for (const line of outcomes.lines) {
      assert.match(line, /^error corral: \[listener-\d+\] connection \d+ from 127\.0\.0\.1:\d+ failed$/);
    }
  }, { skip, timeout: 30_000 });

  test("header-only health checks: a check gone before accept() is no acceptor warning", async () => {
    const outcomes = countingLogger(5);
    await using listener = await start({
      transport: tcp({ host: "127.0.0.1" }),
      proxyHeader: true,
      logger: outcomes.logger,
      protocol: async (conn) => {
        await conn.handshake().then(outcomes.count, outcomes.count);
      },
    });
    const front = await freePort("127.0.0.1");
    await using _haproxy = await startHaproxy([{
      bind: `127.0.0.1:${front}`,
      server: `${corralAddress(listener)} send-proxy-v2 check inter 100`,
    }]);
    // Deno's accept() fails with ENOTCONN for a check that left before it: a retry, logged at
    // debug (it was a warning and a 100 ms back-off of every acceptor).
    await outcomes.reached;
    for (const line of outcomes.lines) assert.match(line, /^debug .*accept failed with ENOTCONN, continuing$/);
  }, { skip, timeout: 30_000 });

  test("a unix socket listener behind HAProxy gets the TCP client's address", async () => {
    const seen = collect();
    await using listener = await proxiedListener(seen.protocol, unix({ path: socketPath() }), {
      timeout: 5000,
      required: true,
    });
    const front = await freePort("127.0.0.1");
    await using _haproxy = await startHaproxy([{
      bind: `127.0.0.1:${front}`,
      server: `${corralAddress(listener)} send-proxy-v2`,
    }]);
    const client = await tcp().connect({ host: "127.0.0.1", port: front });
    await client.send(bytes("over a unix socket"));
    assert.equal(text(await client.recv(18, { timeout: 5000 })), "over a unix socket");
    const { conn, rawPeer } = await seen.next();
    assert.equal(conn.proxyHeader?.sourcePort, (client.sockname() as InetAddress).port);
    assert.equal(conn.proxyHeader?.family, "inet");
    assert.ok("path" in rawPeer, "the raw peer is HAProxy on the socket file");
    await client.close();
  }, { skip, timeout: 30_000 });

  test("PROXY before TLS: HAProxy sends the header, then TLS to Corral (ssl on the server line)", async () => {
    const certs = testCerts();
    const seen = signal<{ conn: Connection; secure: boolean; serverName: string | undefined }>();
    await using listener = await proxiedListener(async (conn) => {
      const secure = await tls({ cert: certs.server.cert, key: certs.server.key }).upgrade(await conn.handshake(), {
        isServer: true,
      });
      seen.resolve({ conn, secure: secure.secure, serverName: secure.tls?.serverName });
      for await (const chunk of secure) await secure.send(chunk);
    });
    const front = await freePort("127.0.0.1");
    await using _haproxy = await startHaproxy([{
      bind: `127.0.0.1:${front}`,
      server: `${corralAddress(listener)} ssl verify required ca-file ${certs.caPath} sni str(localhost) send-proxy-v2`,
    }]);
    const client = await tcp().connect({ host: "127.0.0.1", port: front });
    assert.equal(await roundTrip(client, "encrypted from haproxy on"), "encrypted from haproxy on");
    const { conn, secure, serverName } = await seen.promise;
    assert.equal(secure, true);
    assert.equal(serverName, "localhost", "the SNI HAProxy sent");
    assert.equal(conn.proxyHeader?.sourcePort, (client.sockname() as InetAddress).port);
    assert.equal(conn.proxyHeader?.destinationPort, front);
    await client.close();
  }, { skip, timeout: 30_000 });
});
