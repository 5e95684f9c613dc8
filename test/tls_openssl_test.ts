/**
 * Real peers no one here wrote: `openssl s_client` against a Corral TLS
 * listener, and a Corral TLS client against `openssl s_server`. Each
 * openssl process is spawned by the test and stopped by its PID.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import { tls } from "../transports/tls.ts";
import { suite, test } from "./_harness.ts";
import { echo, roundTrip, signal, start } from "./_fixtures.ts";
import { type CertFiles, opensslMissing, serverOptions, testCerts, tlsCaps } from "./_certs.ts";
import { runtimeCommand } from "./_runtime.ts";

const skip = opensslMissing;

/** A spawned openssl and what it printed. Disposing of it stops it by its PID (see `stop`). */
interface Openssl extends AsyncDisposable {
  child: ChildProcess;
  output: () => string;
  /** Waits (at most 10 s) until the output matches `pattern`. */
  until: (pattern: RegExp) => Promise<void>;
}

/** A spawned openssl whose stdout and stderr are collected. */
function openssl(args: string[]): Openssl {
  const child = spawn("openssl", args, { stdio: ["pipe", "pipe", "pipe"] });
  let output = "";
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  const check = () => {
    for (const waiter of waiters.splice(0)) {
      if (waiter.pattern.test(output)) waiter.resolve();
      else waiters.push(waiter);
    }
  };
  // openssl reports on both streams (s_server -rev prints the peer on stderr).
  const collect = (chunk: Uint8Array) => {
    output += new TextDecoder().decode(chunk);
    check();
  };
  child.stdout!.on("data", collect);
  child.stderr!.on("data", collect);
  const until = (pattern: RegExp) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`openssl never printed ${pattern}:\n${output}`)), 10_000);
      waiters.push({ pattern, resolve: () => (clearTimeout(timer), resolve()) });
      check();
    });
  return { child, output: () => output, until, [Symbol.asyncDispose]: () => stop(child) };
}

/** Stops an openssl process by its PID and waits for it to exit. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  process.kill(child.pid!, "SIGTERM");
  await exited;
}

/**
 * `openssl s_server -rev` (it answers each line reversed) on a free port
 * with `key`'s certificate and key, plus `args`; resolves once it accepts.
 */
async function sServer(key: CertFiles, args: string[] = []): Promise<Openssl & { port: number }> {
  const port = await freePort();
  const server = openssl([
    "s_server",
    "-accept",
    `127.0.0.1:${port}`,
    "-cert",
    key.certPath,
    "-key",
    key.keyPath,
    ...args,
    "-rev",
  ]);
  try {
    await server.until(/ACCEPT/);
  } catch (error) {
    await stop(server.child);
    throw error;
  }
  return { ...server, port };
}

/** A port nothing listens on right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

suite("tls against openssl", () => {
  test("openssl s_client: echo round trip, ALPN and SNI in its output", async () => {
    const certs = testCerts();
    const seenName = signal<string | undefined>();
    // With SNI support the listener picks a.example's certificate by name; elsewhere it has one certificate.
    const serverName = tlsCaps.sni ? "a.example" : "localhost";
    const options = tlsCaps.sni
      ? serverOptions({ alpnProtocols: ["corral/1", "x"], sni: { "a.example": certs.a } })
      : serverOptions({ alpnProtocols: ["corral/1", "x"] });
    await using listener = await start({
      transport: tls(options),
      protocol: async (conn) => {
        const socket = await conn.handshake();
        seenName.resolve(socket.tls?.serverName);
        await echo(conn);
      },
    });
    await using client = openssl([
      "s_client",
      "-connect",
      `127.0.0.1:${listener.port}`,
      "-servername",
      serverName,
      "-alpn",
      "x",
      "-CAfile",
      certs.caPath,
      "-verify_return_error",
    ]); // deno-fmt-ignore
    await client.until(/Verify return code: 0 \(ok\)/);
    client.child.stdin!.write("hello from openssl\n");
    // s_client prints what it reads from the connection: the echo, after the handshake's report.
    await client.until(/Verify return code: 0 \(ok\)[\s\S]*hello from openssl/);
    const output = client.output();
    assert.match(output, /ALPN protocol: x/);
    assert.match(output, new RegExp(`subject=CN ?= ?${serverName.replace(".", "\\.")}`));
    assert.equal(await seenName.promise, tlsCaps.serverSideName ? serverName : undefined);
    client.child.stdin!.end();
    await new Promise((resolve) => client.child.once("exit", resolve));
  }, { skip });

  test("openssl s_client offering only TLS 1.2 is refused by minVersion TLSv1.3", async () => {
    const transport = tls(serverOptions({ minVersion: "TLSv1.3" }));
    if (!tlsCaps.minVersion13) {
      const error = await start({ transport, protocol: echo }).catch((e) => e);
      assert.equal(error.code, "EUNSUPPORTED");
      return;
    }
    await using listener = await start({ transport, protocol: echo });
    await using client = openssl([
      "s_client",
      "-connect",
      `127.0.0.1:${listener.port}`,
      "-tls1_2",
      "-CAfile",
      testCerts().caPath,
    ]);
    const exited = new Promise<number | null>((resolve) => client.child.once("exit", resolve));
    client.child.stdin!.end();
    assert.notEqual(await exited, 0, "a TLS 1.2-only client must be refused");
    assert.match(client.output(), /alert|handshake failure|no protocols available|wrong version/i);
  }, { skip });

  test("openssl s_server: a Corral client verifies it, agrees on ALPN, presents a client certificate", async () => {
    const certs = testCerts();
    await using server = await sServer(certs.server, [
      "-CAfile",
      certs.caPath,
      "-Verify",
      "1",
      "-verify_return_error",
      "-alpn",
      "x,y",
    ]);
    const client = await tls().connect({
      port: server.port,
      ca: certs.caPath,
      alpnProtocols: ["y"],
      cert: certs.client.certPath,
      key: certs.client.keyPath,
    });
    assert.equal(client.tls?.alpnProtocol, "y");
    if (tlsCaps.details) assert.match(client.tls?.peerCertificate ?? "", /BEGIN CERTIFICATE/);
    assert.equal(await roundTrip(client, "hello openssl\n"), "lssnepo olleh\n");
    await server.until(/Peer certificate: CN ?= ?client/);
    await client.close();
  }, { skip });

  test("openssl s_server with a certificate for another name: the Corral client refuses it", async () => {
    const certs = testCerts();
    await using server = await sServer(certs.a);
    const { port } = server;
    const error = await tls().connect({ port, ca: certs.ca, serverName: "localhost" }).catch((e) => e);
    assert.equal(error?.code, "EHANDSHAKE", `expected a handshake error, got ${error}`);
    // The right name verifies, also when it is not the host connected to.
    const client = await tls().connect({ port, ca: certs.ca, serverName: "a.example" });
    assert.equal(await roundTrip(client, "abc\n"), "cba\n");
    await client.close();
  }, { skip });

  test("examples/tls_echo.ts makes a certificate and echoes over TLS on this runtime", async () => {
    const [command, args] = runtimeCommand("examples/tls_echo.ts");
    const child = spawn(command, [...args, "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
      const { value } = await lines.next();
      const match = / listening on 127\.0\.0\.1:(\d+) \(certificate (.+)\)$/.exec(String(value));
      assert.ok(match, `unexpected first line: ${value}`);
      // The self-signed certificate is its own CA.
      const client = await tls().connect({ port: Number(match[1]), serverName: "localhost", ca: match[2]! });
      assert.equal(await roundTrip(client, "ping over tls\n"), "ping over tls\n");
      await client.close();
    } finally {
      await stop(child);
    }
  }, { skip, timeout: 60_000 });
});
