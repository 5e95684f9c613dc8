/**
 * TLS that behaves the same on every runtime (issue 13): what Deno's and
 * Bun's native TLS APIs could not do, checked against real peers
 * (`openssl s_client` / `s_server`) and against the kernel (`ss`,
 * `/proc/self/fd`), and each TLS path the benchmarks select.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { readdirSync } from "node:fs";
import { createInterface } from "node:readline";
import { HandshakeError, type Socket, tcp, type TlsInfo, UnsupportedError } from "../mod.ts";
import { tls } from "../transports/tls.ts";
import { suite, test } from "./_harness.ts";
import { echo, idle, roundTrip, signal, start, text } from "./_fixtures.ts";
import { connectTls, opensslMissing, serverOptions, testCerts } from "./_certs.ts";
import { exited, openssl, sServer, stop } from "./_tls_peers.ts";
import { nodeMajor, runtimeCommand, runtimeName } from "./_runtime.ts";

const skip = opensslMissing;
const linux = globalThis.process.platform === "linux";
const ssMissing = !linux || spawnSync("ss", ["-V"]).status !== 0 ? "needs Linux and ss (iproute2)" : false;

/** The CN of a PEM certificate. */
function commonName(pem: string | undefined): string | undefined {
  if (pem === undefined) return undefined;
  return /CN=([^\n,]+)/.exec(new X509Certificate(pem).subject)?.[1];
}

/** This process's open descriptors (Linux). */
function openDescriptors(): number {
  return readdirSync("/proc/self/fd").length;
}

/** `ss`'s line for each established TCP connection whose local port is `port`, with its timers. */
function acceptedSockets(port: number): string[] {
  const result = spawnSync("ss", ["-tnoH", "state", "established", `sport = :${port}`], { encoding: "utf8" });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.split("\n").filter((line) => line.trim() !== "");
}

/**
 * The one accepted socket on `port` once it has nothing unacknowledged: `ss`
 * shows a socket's pending timer only, and the retransmission timer (`on`)
 * hides the keep-alive one until the peer's (delayed) ACK comes.
 */
async function settledSocket(port: number): Promise<string> {
  let lines: string[] = [];
  for (let attempt = 0; attempt < 500; attempt++) {
    lines = acceptedSockets(port);
    if (lines.length === 1 && !/timer:\(on,/.test(lines[0]!)) return lines[0]!;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`no settled socket on port ${port}: ${lines.join("\n")}`);
}

suite("tls parity", () => {
  test("openssl s_client -servername -cert -tls1_3: the listener sees name, certificate, version, cipher", async () => {
    const certs = testCerts();
    const seen = signal<TlsInfo | undefined>();
    await using listener = await start({
      transport: tls(serverOptions({ requestCert: true, ca: certs.caPath, sni: { "a.example": certs.a } })),
      protocol: async (conn) => {
        seen.resolve((await conn.handshake()).tls);
        await echo(conn);
      },
    });
    await using client = openssl([
      "s_client",
      "-connect",
      `127.0.0.1:${listener.port}`,
      "-servername",
      "a.example",
      "-tls1_3",
      "-cert",
      certs.client.certPath,
      "-key",
      certs.client.keyPath,
      "-CAfile",
      certs.caPath,
      "-verify_return_error",
    ]); // deno-fmt-ignore
    await client.until(/Verify return code: 0 \(ok\)/);
    client.child.stdin!.write("hello through s_client\n");
    await client.until(/Verify return code: 0 \(ok\)[\s\S]*hello through s_client/);
    assert.match(client.output(), /subject=CN ?= ?a\.example/);
    const info = await seen.promise;
    assert.equal(info?.protocol, "TLSv1.3");
    assert.match(info?.cipher ?? "", /^TLS_(AES|CHACHA20)/);
    assert.equal(info?.serverName, "a.example");
    assert.equal(commonName(info?.peerCertificate), "client");
    client.child.stdin!.end();
    await exited(client);
  }, { skip });

  test("a client's minVersion TLSv1.3 refuses openssl s_server -tls1_2; the default agrees on TLS 1.2", async () => {
    const certs = testCerts();
    await using server = await sServer(certs.server, ["-tls1_2"]);
    const options = { port: server.port, serverName: "localhost", ca: certs.ca };
    await assert.rejects(tls().connect({ ...options, minVersion: "TLSv1.3" }), HandshakeError);
    const client = await tls().connect(options);
    assert.equal(client.tls?.protocol, "TLSv1.2");
    assert.match(client.tls?.cipher ?? "", /ECDHE/);
    assert.equal(await roundTrip(client, "abc\n"), "cba\n");
    await client.close();
  }, { skip });

  test("keepAlive on a TLS listener reaches the accepted sockets: the kernel runs their keep-alive timer", async () => {
    for (const keepAlive of [true, false]) {
      const ready = signal<Socket>();
      await using listener = await start({
        transport: tls(serverOptions({ keepAlive, noDelay: true })),
        protocol: async (conn) => {
          ready.resolve(await conn.handshake());
          await echo(conn);
        },
      });
      const client = await connectTls(listener);
      assert.equal(await roundTrip(client, "ka"), "ka");
      await ready.promise;
      const line = await settledSocket(listener.port!);
      assert.equal(/timer:\(keepalive/.test(line), keepAlive, `keepAlive ${keepAlive}: ${line}`);
      await client.close();
    }
  }, { skip: skip || ssMissing });

  test("200 silent clients are closed at handshakeTimeout and their descriptors released", async () => {
    const count = 200;
    await using listener = await start({
      transport: tls(serverOptions()),
      handshakeTimeout: 1000,
      maxConnections: Infinity,
      protocol: idle,
    });
    const before = openDescriptors();
    const silent: Socket[] = [];
    for (let i = 0; i < count; i++) silent.push(await tcp().connect({ port: listener.port! }));
    await listener.waitForConnections("==", count, { timeout: 20_000 });
    const held = openDescriptors();
    // Both ends of each connection live in this process while the handshakes wait.
    assert.ok(
      held >= before + 2 * count - 10,
      `${held} descriptors open with ${count} silent clients (${before} before)`,
    );
    await listener.waitForConnections("==", 0, { timeout: 20_000 });
    assert.equal(listener.info().failed, count);
    const after = openDescriptors();
    // Only the clients' ends are left: the listener closed its end of each connection.
    assert.ok(after <= before + count + 10, `${after} descriptors open after the timeouts (${before} before)`);
    await Promise.all(silent.map((socket) => socket.close()));
    assert.ok(openDescriptors() <= before + 10, `descriptors left after the clients closed too`);
  }, { skip: skip || (linux ? false : "counts /proc/self/fd (Linux)"), timeout: 60_000 });

  test("reusePort on a TLS listener: two listen sockets share the port (UnsupportedError on Node.js 20)", async () => {
    const transport = tls(serverOptions({ reusePort: true }));
    const listening = start({ transport, numListenSockets: 2, protocol: echo });
    if (runtimeName === "node" && nodeMajor < 22) {
      const error = await listening.catch((e) => e);
      assert.ok(error instanceof UnsupportedError && error.option === "reusePort", `got ${error}`);
      return;
    }
    await using listener = await listening;
    assert.equal(listener.info().numListenSockets, 2);
    for (let i = 0; i < 4; i++) {
      const client = await connectTls(listener);
      assert.equal(await roundTrip(client, `client ${i}`), `client ${i}`);
      await client.close();
    }
  }, { skip: skip || (linux ? false : "SO_REUSEPORT load balancing is Linux's") });

  test("a client's ca replaces the default roots (a CA among the defaults is no longer trusted)", async () => {
    const certs = testCerts();
    await using listener = await start({ transport: tls(serverOptions()), protocol: idle });
    const [command, args] = runtimeCommand("test/_tls_ca_child.ts");
    // The test CA joins each runtime's default roots; `ca` then names an unrelated certificate.
    const env = { ...globalThis.process.env, DENO_CERT: certs.caPath, NODE_EXTRA_CA_CERTS: certs.caPath };
    const child = spawn(command, [...args, String(listener.port), certs.rogue.certPath], {
      stdio: ["ignore", "pipe", "inherit"],
      env,
    });
    try {
      const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
      const { value } = await lines.next();
      const match = /^RESULT (.+)$/.exec(String(value));
      assert.ok(match, `unexpected output: ${value}`);
      assert.deepEqual(JSON.parse(match[1]!), { defaults: "verified", replaced: "EHANDSHAKE" });
    } finally {
      await stop(child);
    }
  }, { skip, timeout: 60_000 });

  for (const path of ["native", "node", "node-carrier"]) {
    test(`CORRAL_TLS_PATH=${path} (the benchmarks' switch) serves examples/tls_echo.ts`, async () => {
      const [command, args] = runtimeCommand("examples/tls_echo.ts");
      const env = { ...globalThis.process.env, CORRAL_TLS_PATH: path };
      const child = spawn(command, [...args, "--port", "0"], { stdio: ["ignore", "pipe", "inherit"], env });
      try {
        const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
        const { value } = await lines.next();
        const match = / listening on 127\.0\.0\.1:(\d+) \(certificate (.+)\)$/.exec(String(value));
        assert.ok(match, `unexpected first line: ${value}`);
        const client = await tls().connect({ port: Number(match[1]), serverName: "localhost", ca: match[2]! });
        assert.equal(await roundTrip(client, "over one path\n"), "over one path\n");
        await client.shutdown("write");
        assert.equal(text(await client.recv(0, { timeout: 5000 })), null);
        await client.close();
      } finally {
        await stop(child);
      }
    }, {
      skip: skip || (runtimeName === "node" && path === "native" ? "Node.js has one TLS path (node)" : false),
      timeout: 60_000,
    });
  }
});
