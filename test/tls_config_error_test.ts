/**
 * TLS settings that cannot be used fail the same way on every runtime and
 * wherever they are read (`listen()`, `connect()`, `upgrade()`): a
 * `TlsConfigError` whose code is the file's (`ENOENT` ...) or `ETLSCONFIG`,
 * with the runtime's own error as `cause`, and never a key's text.
 */
import assert from "node:assert/strict";
import { ListenError, memory, TlsConfigError } from "../mod.ts";
import { tls, type TlsOptions } from "../transports/tls.ts";
import { suite, test } from "./_harness.ts";
import { idle, start } from "./_fixtures.ts";
import { opensslMissing, serverOptions, testCerts } from "./_certs.ts";

const skip = opensslMissing;

const NOT_BASE64 = "-----BEGIN CERTIFICATE-----\nnot base64 at all!!\n-----END CERTIFICATE-----\n";
const NOT_DER = "-----BEGIN CERTIFICATE-----\nAAAAAAAAAAAAAAAA\n-----END CERTIFICATE-----\n";
const BAD_KEY = "-----BEGIN PRIVATE KEY-----\nnot base64 at all!!\n-----END PRIVATE KEY-----\n";

/** Asserts `error` is a `TlsConfigError` with `code` and a cause, whose message leaves out `secret`. */
function assertTlsConfigError(error: unknown, code: string, secret?: string): void {
  assert.ok(error instanceof TlsConfigError, `expected TlsConfigError ${code}, got ${error}`);
  assert.ok(error instanceof ListenError, "a TlsConfigError is a ListenError");
  assert.equal(error.code, code, error.message);
  if (secret !== undefined) assert.ok(!error.message.includes(secret), "the message holds the key's text");
  if (code !== "ETLSCONFIG" || !/no PEM|not the private key/.test(error.message)) {
    assert.ok(error.cause !== undefined, `no cause: ${error.message}`);
  }
}

async function listenError(options: TlsOptions): Promise<unknown> {
  return await start({ transport: tls(options), protocol: idle }).then(
    async (listener) => {
      await listener.stop();
      return undefined;
    },
    (error) => error,
  );
}

suite("tls configuration errors", () => {
  test("unusable certificates, keys and CAs fail listen() with ETLSCONFIG", async () => {
    const certs = testCerts();
    const secret = certs.server.key.split("\n")[1]!;
    const cases: [string, TlsOptions][] = [
      ["cert not base64", serverOptions({ cert: NOT_BASE64 })],
      ["cert not a certificate", serverOptions({ cert: NOT_DER })],
      ["key not base64", serverOptions({ key: BAD_KEY })],
      ["key of another certificate", serverOptions({ cert: certs.a.cert })],
      ["a certificate as the key", serverOptions({ key: certs.server.cert })],
      ["ca not base64", serverOptions({ ca: NOT_BASE64, requestCert: true })],
      ["a key as the ca", serverOptions({ ca: certs.server.key })],
      ["sni certificate not base64", serverOptions({ sni: { "a.example": { cert: NOT_BASE64, key: certs.a.key } } })],
    ];
    for (const [name, options] of cases) {
      const error = await listenError(options);
      assert.ok(error !== undefined, `${name}: listen() succeeded`);
      assertTlsConfigError(error, "ETLSCONFIG", secret);
    }
  }, { skip });

  test("a missing file is the same error from listen() and from connect(): TlsConfigError ENOENT", async () => {
    const listening = await listenError({ port: 0, cert: "/nonexistent/corral.pem", key: "/nonexistent/corral.key" });
    assertTlsConfigError(listening, "ENOENT");
    const connecting = await tls().connect({ port: 1, ca: "/nonexistent/corral-ca.pem" }).catch((e) => e);
    assertTlsConfigError(connecting, "ENOENT");
    assert.equal(connecting.constructor, listening!.constructor);
    assert.match(connecting.message, /corral-ca\.pem/);
  });

  test("unusable client material fails connect() and upgrade() the same way, before any byte is sent", async () => {
    const certs = testCerts();
    await using listener = await start({ transport: tls(serverOptions()), protocol: idle });
    const connect = (extra: object) => tls().connect({ port: listener.port!, serverName: "localhost", ...extra });
    assertTlsConfigError(await connect({ ca: NOT_BASE64 }).catch((e) => e), "ETLSCONFIG");
    assertTlsConfigError(
      await connect({ ca: certs.ca, cert: NOT_DER, key: certs.client.key }).catch((e) => e),
      "ETLSCONFIG",
    );
    assertTlsConfigError(
      await connect({ ca: certs.ca, cert: certs.client.cert, key: BAD_KEY }).catch((e) => e),
      "ETLSCONFIG",
    );
    // Nothing reached the listener: the errors came before connecting.
    assert.equal(listener.info().accepted, 0);

    await using plainListener = await start({ transport: memory(), protocol: idle });
    const plain = await memory().connect({ name: (plainListener.address as { name: string }).name });
    assertTlsConfigError(await tls().upgrade(plain, { ca: NOT_BASE64 }).catch((e) => e), "ETLSCONFIG");
    const badServer = tls({ cert: certs.a.cert, key: certs.server.key });
    assertTlsConfigError(await badServer.upgrade(plain, { isServer: true }).catch((e) => e), "ETLSCONFIG");
    await plain.close();
  }, { skip });
});
