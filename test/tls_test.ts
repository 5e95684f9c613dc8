/**
 * The tls transport: Ranch's ssl group of acceptor_SUITE by name, then
 * handshake timeouts, ALPN, SNI, client certificates, STARTTLS, secure
 * defaults and what each runtime refuses. Real sockets on 127.0.0.1.
 */
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { type Connection, HandshakeError, ListenError, memory, type Socket, tcp, TimeoutError } from "../mod.ts";
import { tls } from "../transports/tls.ts";
import { suite, test } from "./_harness.ts";
import {
  activeEcho,
  echo,
  idle,
  readAll,
  RecordingLogger,
  roundTrip,
  signal,
  start,
  text,
  waitFor,
} from "./_fixtures.ts";
import { connectTls, opensslMissing, serverOptions, testCerts } from "./_certs.ts";
import { runtimeName } from "./_runtime.ts";

const skip = opensslMissing;
const decoder = new TextDecoder();

/** The CN of a PEM certificate. */
function commonName(pem: string | undefined): string | undefined {
  if (pem === undefined) return undefined;
  return /CN=([^\n,]+)/.exec(new X509Certificate(pem).subject)?.[1];
}

/** Resolves with what ends a read on a socket the server should have closed: null, or the error's code. */
async function endOf(socket: Socket): Promise<string> {
  try {
    for (let i = 0; i < 100; i++) {
      const chunk = await socket.recv(0, { timeout: 10_000 });
      if (chunk === null) return "end";
    }
    return "still open";
  } catch (error) {
    if (error instanceof TimeoutError) return "still open";
    return (error as { code?: string }).code ?? String(error);
  }
}

suite("tls (Ranch ssl group)", () => {
  test("ssl_echo: passive echo; the client sees the listener stop", async () => {
    const listener = await start({ transport: tls(serverOptions()), shutdownTimeout: 50, protocol: echo });
    const client = await connectTls(listener);
    assert.equal(client.secure, true);
    assert.equal(await roundTrip(client, "SSL Ranch is working!"), "SSL Ranch is working!");
    assert.match(client.tls?.protocol ?? "", /^TLSv1\.[23]$/);
    assert.ok(client.tls?.cipher);
    assert.equal(commonName(client.tls?.peerCertificate), "localhost");
    await listener.stop();
    assert.ok(["end", "ECONNRESET", "EPIPE"].includes(await endOf(client)));
    await client.close();
  }, { skip });

  test("ssl_active_echo: echo by async iteration", async () => {
    await using listener = await start({ transport: tls(serverOptions()), protocol: activeEcho });
    const client = await connectTls(listener);
    assert.equal(await roundTrip(client, "SSL Ranch is working!"), "SSL Ranch is working!");
    await client.close();
  }, { skip });

  test("ssl_graceful: suspend keeps TLS connections, refuses new ones, resume reopens", async () => {
    await using listener = await start({ transport: tls(serverOptions()), protocol: echo });
    const port = listener.port!;
    const first = await connectTls(listener);
    assert.equal(await roundTrip(first, "SSL with fresh listener"), "SSL with fresh listener");
    assert.throws(() => listener.setTransportOptions({ port }), TypeError);
    await listener.suspend();
    assert.equal(listener.status, "suspended");
    assert.equal(await roundTrip(first, "SSL with suspended listener"), "SSL with suspended listener");
    await assert.rejects(connectTls(listener), (e: { code?: string }) => e.code === "ECONNREFUSED");
    listener.setTransportOptions({ port });
    await listener.resume();
    const second = await connectTls(listener);
    assert.equal(await roundTrip(second, "SSL with resumed listener"), "SSL with resumed listener");
    assert.equal(await roundTrip(first, "still here"), "still here");
    await Promise.all([first.close(), second.close()]);
  }, { skip });

  test("ssl_accept_error: a client that connects and leaves does not hurt the acceptor", async () => {
    const logger = new RecordingLogger();
    await using listener = await start({
      transport: tls(serverOptions()),
      numAcceptors: 1,
      logger,
      protocol: echo,
    });
    const raw = await tcp().connect({ port: listener.port! });
    await raw.close();
    await waitFor(() => listener.info().failed === 1);
    const client = await connectTls(listener);
    assert.equal(await roundTrip(client, "acceptor alive"), "acceptor alive");
    await client.close();
    assert.equal(logger.at("warn").length, 1);
  }, { skip });

  test("ssl_handshake_error: garbage instead of a ClientHello is closed, logged once and counted", async () => {
    const logger = new RecordingLogger();
    await using listener = await start({ transport: tls(serverOptions()), logger, protocol: echo });
    const garbage = await tcp().connect({ port: listener.port! });
    const peer = garbage.sockname() as { port: number };
    await garbage.send("GET / HTTP/1.1\r\nHost: example\r\n\r\n");
    const good = await connectTls(listener);
    assert.equal(await roundTrip(good, "unaffected"), "unaffected");
    assert.notEqual(await endOf(garbage), "still open");
    await waitFor(() => listener.info().failed === 1);
    const warnings = logger.at("warn");
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, new RegExp(`127\\.0\\.0\\.1:${peer.port}: TLS handshake failed`));
    await Promise.all([good.close(), garbage.close()]);
  }, { skip });

  test("ssl_sni_echo: a listener with only SNI certificates serves a known name", async () => {
    const certs = testCerts();
    const transport = tls({ host: "127.0.0.1", port: 0, sni: { localhost: certs.server } });
    await using listener = await start({ transport, protocol: echo });
    const client = await connectTls(listener);
    assert.equal(await roundTrip(client, "SSL Ranch is working!"), "SSL Ranch is working!");
    await client.close();
  }, { skip });

  test("ssl_sni_fail: a listener with only SNI certificates refuses an unknown name", async () => {
    const certs = testCerts();
    const transport = tls({ host: "127.0.0.1", port: 0, sni: { pouet: certs.server } });
    await using listener = await start({ transport, protocol: echo });
    await assert.rejects(connectTls(listener), HandshakeError);
    await waitFor(() => listener.info().failed === 1);
  }, { skip });

  test("ssl_upgrade_from_tcp: STARTTLS on both sides of a tcp connection", async () => {
    const certs = testCerts();
    const upgrader = tls({ cert: certs.server.certPath, key: certs.server.keyPath });
    const listener = await start({
      transport: tcp({ host: "127.0.0.1", port: 0 }),
      shutdownTimeout: 50,
      protocol: sslUpgradeProtocol(upgrader),
    });
    const socket = await tcp().connect({ port: listener.port! });
    await socket.send("ECHO Before upgrading to SSL");
    assert.equal(text(await socket.recv(23, { timeout: 5000 })), "Before upgrading to SSL");
    await socket.send("UPGRADE");
    assert.equal(text(await socket.recv(5, { timeout: 5000 })), "READY");
    const secure = await tls().upgrade(socket, { serverName: "localhost", ca: certs.ca });
    assert.equal(secure.secure, true);
    assert.deepEqual(secure.peername(), socket.peername());
    await secure.send("ECHO After upgrading to SSL");
    assert.equal(text(await secure.recv(22, { timeout: 5000 })), "After upgrading to SSL");
    await listener.stop();
    assert.ok(["end", "ECONNRESET", "EPIPE"].includes(await endOf(secure)));
    await secure.close();
  }, { skip });

  test("ssl_error_eaddrinuse: a taken port fails like tcp", async () => {
    await using first = await start({ transport: tls(serverOptions()), protocol: idle });
    const error = await start({ transport: tls(serverOptions({ port: first.port! })), protocol: idle }).catch((e) => e);
    assert.ok(error instanceof ListenError, `expected ListenError, got ${error}`);
    assert.equal(error.code, "EADDRINUSE");
  }, { skip });

  test("ssl_error_no_cert: no certificate source fails at listen() and names the options", async () => {
    const error = await start({ transport: tls({ port: 0 }), protocol: idle }).catch((e) => e);
    assert.ok(error instanceof ListenError);
    assert.equal(error.code, "NO_CERT");
    assert.match(error.message, /cert and key/);
    assert.match(error.message, /sni/);
  });
});

/** Ranch's ssl_upgrade_protocol: `ECHO x` answers x; `UPGRADE` answers READY and goes TLS. */
function sslUpgradeProtocol(upgrader: ReturnType<typeof tls>) {
  return async (conn: Connection) => {
    let socket = await conn.handshake();
    try {
      for (;;) {
        const chunk = await socket.recv(0);
        if (chunk === null) return;
        const line = decoder.decode(chunk);
        if (line.startsWith("ECHO ")) await socket.send(line.slice(5));
        else if (line === "UPGRADE") {
          await socket.send("READY");
          socket = await upgrader.upgrade(socket, { isServer: true });
        }
      }
    } finally {
      // After an upgrade the supervisor would close only the plain socket underneath.
      await socket.close();
    }
  };
}

suite("tls handshake", () => {
  test("a silent client is closed at handshakeTimeout, logged once with its address, counted failed", async () => {
    const logger = new RecordingLogger();
    await using listener = await start({
      transport: tls(serverOptions()),
      handshakeTimeout: 300,
      numAcceptors: 1,
      logger,
      protocol: echo,
    });
    const started = performance.now();
    const silent = await tcp().connect({ port: listener.port! });
    const peer = silent.sockname() as { port: number };
    const ended = endOf(silent);
    // Others are served while the silent one waits.
    const good = await connectTls(listener);
    assert.equal(await roundTrip(good, "not blocked"), "not blocked");
    await waitFor(() => listener.info().failed === 1);
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 250, `given up after ${elapsed} ms, before the 300 ms timeout`);
    const warnings = logger.at("warn");
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, new RegExp(`127\\.0\\.0\\.1:${peer.port}: handshake timed out`));
    assert.equal(listener.connections("all"), 1, "only the good client is left");
    assert.notEqual(await ended, "still open");
    await Promise.all([good.close(), silent.close()]);
  }, { skip });

  test("ALPN: both sides see the protocol they agreed on", async () => {
    const seen = signal<string | undefined>();
    await using listener = await start({
      transport: tls(serverOptions({ alpnProtocols: ["h2", "http/1.1"] })),
      protocol: async (conn) => {
        const socket = await conn.handshake();
        seen.resolve(socket.tls?.alpnProtocol);
        await echo(conn);
      },
    });
    const client = await connectTls(listener, { alpnProtocols: ["http/1.1", "spdy/1"] });
    assert.equal(client.tls?.alpnProtocol, "http/1.1");
    assert.equal(await seen.promise, "http/1.1");
    await client.close();
  }, { skip });

  test("SNI map with a default: each name gets its certificate, others the default", async () => {
    const certs = testCerts();
    const transport = tls(serverOptions({ sni: { "a.example": certs.a, "*.b.example": certs.b } }));
    const names: (string | undefined)[] = [];
    await using listener = await start({
      transport,
      protocol: async (conn) => {
        names.push((await conn.handshake()).tls?.serverName);
        await echo(conn);
      },
    });
    for (
      const [serverName, cn] of [["a.example", "a.example"], ["x.b.example", "b.example"], ["localhost", "localhost"]]
    ) {
      // b.example's certificate is not for x.b.example: only its CN is checked here.
      const client = await connectTls(listener, { serverName, rejectUnauthorized: serverName !== "x.b.example" });
      assert.equal(commonName(client.tls?.peerCertificate), cn, `certificate for ${serverName}`);
      assert.equal(await roundTrip(client, serverName!), serverName);
      await client.close();
    }
    assert.deepEqual(names, ["a.example", "x.b.example", "localhost"]);
  }, { skip });

  test("SNI callback: certificates from a function; an unknown name without a default is refused", async () => {
    const certs = testCerts();
    const asked: string[] = [];
    const transport = tls({
      host: "127.0.0.1",
      port: 0,
      sni: (name) => {
        asked.push(name);
        return name === "a.example" ? { cert: certs.a.certPath, key: certs.a.keyPath } : undefined;
      },
    });
    await using listener = await start({ transport, protocol: echo });
    const client = await connectTls(listener, { serverName: "A.Example" });
    assert.equal(commonName(client.tls?.peerCertificate), "a.example");
    await client.close();
    await assert.rejects(connectTls(listener, { serverName: "b.example" }), HandshakeError);
    assert.deepEqual(asked, ["a.example", "b.example"]);
  }, { skip });

  test("mTLS: a client certificate the CA signed is accepted and visible to the protocol", async () => {
    const certs = testCerts();
    const transport = tls(serverOptions({ requestCert: true, ca: certs.caPath }));
    await using listener = await start({
      transport,
      protocol: async (conn) => {
        const socket = await conn.handshake();
        await socket.send(`hello ${commonName(socket.tls?.peerCertificate)}`);
        await socket.recv(0);
      },
    });
    const client = await connectTls(listener, { cert: certs.client.cert, key: certs.client.keyPath });
    assert.equal(text(await client.recv(12, { timeout: 5000 })), "hello client");
    await client.close();
  }, { skip });

  test("mTLS: a self-signed or missing client certificate is refused and counted", async () => {
    const certs = testCerts();
    const transport = tls(serverOptions({ requestCert: true, ca: certs.ca }));
    await using listener = await start({ transport, protocol: echo });
    for (const extra of [{ cert: certs.rogue.cert, key: certs.rogue.key }, {}]) {
      // With TLS 1.3 the client may finish first and hear the refusal on its first read.
      const outcome = await connectTls(listener, extra).then(
        async (client) => {
          await client.send("x").catch(() => {});
          const end = await endOf(client);
          await client.close();
          return end;
        },
        (error) => (error instanceof HandshakeError ? "refused" : String(error)),
      );
      assert.notEqual(outcome, "still open");
    }
    await waitFor(() => listener.info().failed === 2);
    assert.equal(listener.info().accepted, 2);
  }, { skip });

  test("requestCert without rejectUnauthorized lets an unverified client in, certificate visible", async () => {
    const certs = testCerts();
    const transport = tls(serverOptions({ requestCert: true, rejectUnauthorized: false, ca: certs.ca }));
    const seen = signal<string | undefined>();
    await using listener = await start({
      transport,
      protocol: async (conn) => {
        seen.resolve(commonName((await conn.handshake()).tls?.peerCertificate));
        await echo(conn);
      },
    });
    const client = await connectTls(listener, { cert: certs.rogue.cert, key: certs.rogue.key });
    assert.equal(await roundTrip(client, "let in"), "let in");
    assert.equal(await seen.promise, "rogue");
    await client.close();
  }, { skip });
});

suite("tls client verification", () => {
  test("verification is on by default: an unknown CA or a wrong name fails with HandshakeError", async () => {
    await using listener = await start({ transport: tls(serverOptions()), protocol: echo });
    await assert.rejects(tls().connect({ port: listener.port!, serverName: "localhost" }), HandshakeError);
    await assert.rejects(connectTls(listener, { serverName: "a.example" }), HandshakeError);
    // The certificate names 127.0.0.1, so connecting by address verifies too.
    const byAddress = await tls().connect({ port: listener.port!, ca: testCerts().ca });
    assert.equal(await roundTrip(byAddress, "by address"), "by address");
    await byAddress.close();
  }, { skip });

  test("rejectUnauthorized: false connects to an unverified server", async () => {
    await using listener = await start({ transport: tls(serverOptions()), protocol: echo });
    const client = await tls().connect({ port: listener.port!, serverName: "localhost", rejectUnauthorized: false });
    assert.equal(await roundTrip(client, "unverified"), "unverified");
    await client.close();
    // A trusted certificate for another name is let through as well.
    const misnamed = await connectTls(listener, { serverName: "a.example", rejectUnauthorized: false });
    assert.equal(await roundTrip(misnamed, "misnamed"), "misnamed");
    await misnamed.close();
  }, { skip });

  test("a client certificate with a server name other than the host", async () => {
    const certs = testCerts();
    await using listener = await start({ transport: tls(serverOptions()), protocol: echo });
    const client = await connectTls(listener, { cert: certs.client.cert, key: certs.client.key });
    assert.equal(await roundTrip(client, "named"), "named");
    await client.close();
  }, { skip });
});

suite("tls STARTTLS and options", () => {
  test("upgrade works over any transport: both sides over memory", async () => {
    const certs = testCerts();
    const upgrader = tls({ cert: certs.server.cert, key: certs.server.key, alpnProtocols: ["x"] });
    await using listener = await start({
      transport: memory(),
      protocol: async (conn) => {
        const secure = await upgrader.upgrade(await conn.handshake(), { isServer: true, timeout: 5000 });
        for await (const chunk of secure) await secure.send(chunk);
      },
    });
    const plain = await memory().connect({ name: (listener.address as { name: string }).name });
    const secure = await tls().upgrade(plain, { serverName: "localhost", ca: certs.ca, alpnProtocols: ["x"] });
    assert.equal(secure.tls?.alpnProtocol, "x");
    assert.equal(await roundTrip(secure, "tls over memory"), "tls over memory");
    await secure.shutdown("write");
    assert.equal(await secure.recv(0, { timeout: 5000 }), null);
    await secure.close();
  }, { skip });

  test("STARTTLS half-close: the peer can still reply (on Bun its send fails: its end comes back)", async () => {
    const certs = testCerts();
    const upgrader = tls({ cert: certs.server.cert, key: certs.server.key });
    const sent = signal<string>();
    await using listener = await start({
      transport: memory(),
      protocol: async (conn) => {
        const secure = await upgrader.upgrade(await conn.handshake(), { isServer: true });
        let received = 0;
        for await (const chunk of secure) received += chunk.length;
        sent.resolve(await secure.send(`got ${received}`).then(() => "sent", (e) => e.code));
        // The supervisor closes the socket conn.handshake() returned, the plain one: close the secure one first.
        await secure.close();
      },
    });
    const plain = await memory().connect({ name: (listener.address as { name: string }).name });
    const secure = await tls().upgrade(plain, { serverName: "localhost", ca: certs.ca });
    await secure.send("12345");
    await secure.shutdown("write");
    const reply = text(await readAll(secure));
    // Bun's node:tls over a stream (its UpgradedDuplex) answers a close_notify by ending its own side;
    // the send that would be lost fails instead.
    assert.equal(reply, runtimeName === "bun" ? "" : "got 5");
    assert.equal(await sent.promise, runtimeName === "bun" ? "EPIPE" : "sent");
    await secure.close();
  }, { skip });

  test("an upgrade whose peer never answers fails at its timeout", async () => {
    const silent = async (conn: Connection) => {
      await conn.handshake();
      await new Promise((resolve) => conn.signal.addEventListener("abort", resolve));
    };
    await using listener = await start({ transport: memory(), protocol: silent });
    const plain = await memory().connect({ name: (listener.address as { name: string }).name });
    const error = await tls().upgrade(plain, { serverName: "localhost", timeout: 100 }).catch((e) => e);
    assert.equal(error.code, "ETIMEDOUT");
  });

  test("minVersion TLSv1.3 on both sides negotiates TLS 1.3", async () => {
    const transport = tls(serverOptions({ minVersion: "TLSv1.3" }));
    await using listener = await start({ transport, protocol: echo });
    const client = await connectTls(listener, { minVersion: "TLSv1.3" });
    assert.equal(client.tls?.protocol, "TLSv1.3");
    await client.close();
  }, { skip });

  test("tls over IPv6, with keepAlive on accepted connections", async () => {
    const transport = tls(serverOptions({ host: "::1", keepAlive: true }));
    await using listener = await start({ transport, protocol: echo });
    assert.deepEqual(listener.address, { address: "::1", port: listener.port, family: "IPv6" });
    const client = await connectTls(listener, { host: "::1" });
    assert.equal((client.peername() as { family: string }).family, "IPv6");
    assert.equal(await roundTrip(client, "v6"), "v6");
    await client.close();
  }, { skip });

  test("wrong options fail at the factory, without echoing a key", () => {
    const secret =
      "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg\n-----END PRIVATE KEY-----\n";
    assert.throws(() => tls({ key: secret }), (e: Error) => e instanceof TypeError && !e.message.includes("MIG"));
    assert.throws(() => tls({ cert: "c.pem", key: 42 as unknown as string }), TypeError);
    assert.throws(() => tls({ minVersion: "TLSv1.1" as "TLSv1.2" }), RangeError);
    assert.throws(() => tls({ alpnProtocols: [] }), TypeError);
    assert.throws(() => tls({ sni: { "bad name": { cert: "c", key: "k" } } }), TypeError);
    assert.throws(() => tls({ cert: "c.pem", key: "k.pem", verify: true } as never), TypeError);
  });

  test("private keys stay out of options, errors and logs", async () => {
    const certs = testCerts();
    const body = certs.server.key.split("\n")[1]!;
    const listenerOptions = serverOptions();
    const broken = tls({ ...listenerOptions, key: certs.server.key.replace(body, body.slice(0, 20)) });
    const error = await start({ transport: broken, protocol: idle }).catch((e) => e);
    assert.ok(error instanceof ListenError, `expected ListenError, got ${error}`);
    assert.ok(!String(error.message).includes(body.slice(0, 20)), "the key's text is in the error");
    const logger = new RecordingLogger();
    await using listener = await start({ transport: tls(listenerOptions), logger, protocol: echo });
    assert.equal((listener.transportOptions as { key: string }).key, "[private key redacted]");
    assert.ok(!JSON.stringify(listener.info()).includes(body));
    const garbage = await tcp().connect({ port: listener.port! });
    await garbage.send("garbage");
    await endOf(garbage);
    await waitFor(() => listener.info().failed === 1);
    assert.ok(!JSON.stringify(logger.lines.map((l) => l.message)).includes(body));
    await garbage.close();
  }, { skip });

  test("a missing certificate file fails at listen() with the file's code", async () => {
    const transport = tls({ port: 0, cert: "/nonexistent/corral.pem", key: "/nonexistent/corral.key" });
    const error = await start({ transport, protocol: idle }).catch((e) => e);
    assert.ok(error instanceof ListenError, `expected ListenError, got ${error}`);
    assert.equal(error.code, "ENOENT");
    assert.match(error.message, /corral\.(pem|key)/);
  });

  test("handshake() refuses a socket a tls listener did not accept", async () => {
    await using listener = await start({ transport: memory(), protocol: idle });
    const plain = await memory().connect({ name: (listener.address as { name: string }).name });
    await assert.rejects(tls().handshake(plain, 1000), TypeError);
    await plain.close();
  });
});
