/**
 * Real peers no one here wrote: `openssl s_client` against a Corral TLS
 * listener, and a Corral TLS client against `openssl s_server`. Each
 * openssl process is spawned by the test and stopped by its PID.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { tls } from "../transports/tls.ts";
import { suite, test } from "./_harness.ts";
import { echo, roundTrip, signal, start } from "./_fixtures.ts";
import { opensslMissing, serverOptions, testCerts } from "./_certs.ts";
import { openssl, sServer, stop } from "./_tls_peers.ts";
import { runtimeCommand } from "./_runtime.ts";

const skip = opensslMissing;

suite("tls against openssl", () => {
  test("openssl s_client: echo round trip, ALPN and SNI in its output", async () => {
    const certs = testCerts();
    const seenName = signal<string | undefined>();
    // The listener picks a.example's certificate by the name s_client sends.
    const serverName = "a.example";
    const options = serverOptions({ alpnProtocols: ["corral/1", "x"], sni: { "a.example": certs.a } });
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
    assert.equal(await seenName.promise, serverName);
    client.child.stdin!.end();
    await new Promise((resolve) => client.child.once("exit", resolve));
  }, { skip });

  test("openssl s_client offering only TLS 1.2 is refused by minVersion TLSv1.3", async () => {
    const transport = tls(serverOptions({ minVersion: "TLSv1.3" }));
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
    // OpenSSL and BoringSSL answer with an alert; Deno's rustls closes the connection.
    assert.match(client.output(), /alert|handshake failure|no protocols available|wrong version|unexpected eof/i);
    assert.doesNotMatch(client.output(), /Cipher is (?!\(NONE\))/, "no cipher may be agreed");
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
    assert.match(client.tls?.peerCertificate ?? "", /BEGIN CERTIFICATE/);
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
