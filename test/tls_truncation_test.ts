/**
 * A TLS peer that closes without close_notify: an end of stream, never a
 * failure, on every runtime; `detectTruncation` tells it apart in
 * `socket.tls.closeNotify`. The peers are `ncat --ssl` (it closes its
 * connection without close_notify) and `openssl s_client` (it sends one at
 * the end of its input).
 */
import assert from "node:assert/strict";
import { type Connection, memory, type Socket, type TlsInfo } from "../mod.ts";
import { tls, type TlsOptions } from "../transports/tls.ts";
import { suite, test } from "./_harness.ts";
import { RecordingLogger, signal, start, text } from "./_fixtures.ts";
import { opensslMissing, serverOptions, testCerts } from "./_certs.ts";
import { exited, freePort, ncatMissing, openssl, peer } from "./_tls_peers.ts";

const skip = opensslMissing || ncatMissing;

/** What a protocol read before its stream ended, and how it ended. */
interface Reading {
  received: string;
  /** `"end"` when recv() returned null, else the error's code. */
  ending: string;
  tls: TlsInfo | undefined;
}

/** Reads the whole stream, then reports; keeps the socket's TLS details. */
async function readToEnd(socket: Socket): Promise<Reading> {
  let received = "";
  try {
    for (;;) {
      const chunk = await socket.recv(0, { timeout: 10_000 });
      if (chunk === null) return { received, ending: "end", tls: socket.tls };
      received += text(chunk);
    }
  } catch (error) {
    return { received, ending: (error as { code?: string }).code ?? String(error), tls: socket.tls };
  }
}

/** A listener whose protocol reads to the end and hands over what it saw. */
async function readingListener(options: TlsOptions) {
  const logger = new RecordingLogger();
  const seen = signal<Reading>();
  const listener = await start({
    transport: tls(serverOptions(options)),
    logger,
    protocol: async (conn: Connection) => seen.resolve(await readToEnd(await conn.handshake())),
  });
  return { listener, logger, seen: seen.promise };
}

/** `ncat --ssl` that sends `input` to `port` and closes when its input ends. */
function ncatClient(port: number, input: string) {
  const client = peer("ncat", ["--ssl", "127.0.0.1", String(port)]);
  client.child.stdin!.end(input);
  return client;
}

/** `openssl s_client` that sends `input` and, at the end of its input, close_notify. */
async function sClient(port: number, input: string) {
  const client = openssl(["s_client", "-connect", `127.0.0.1:${port}`, "-CAfile", testCerts().caPath]);
  await client.until(/Verify return code: 0 \(ok\)/);
  client.child.stdin!.end(input);
  return client;
}

suite("tls truncation", () => {
  test("ncat --ssl leaving without close_notify is an end of stream: no error, nothing failed", async () => {
    const { listener, logger, seen } = await readingListener({});
    await using _ = listener;
    await using client = ncatClient(listener.port!, "from ncat\n");
    const reading = await seen;
    assert.deepEqual([reading.received, reading.ending], ["from ncat\n", "end"]);
    await listener.waitForConnections("==", 0, { timeout: 10_000 });
    assert.equal(listener.info().failed, 0);
    assert.deepEqual(logger.at("warn"), []);
    await exited(client);
  }, { skip });

  test("detectTruncation: closeNotify is false after ncat --ssl, true after openssl s_client", async () => {
    for (const [who, expected] of [["ncat", false], ["s_client", true]] as const) {
      const { listener, seen } = await readingListener({ detectTruncation: true });
      await using _ = listener;
      await using client = who === "ncat"
        ? ncatClient(listener.port!, `from ${who}\n`)
        : await sClient(listener.port!, `from ${who}\n`);
      const reading = await seen;
      assert.deepEqual([reading.received, reading.ending], [`from ${who}\n`, "end"], who);
      assert.equal(reading.tls?.closeNotify, expected, `${who}: closeNotify`);
      assert.equal(listener.info().failed, 0);
      await exited(client);
    }
  }, { skip });

  test(
    "a client reading from ncat --ssl -l that leaves without close_notify ends cleanly, closeNotify false",
    async () => {
      const certs = testCerts();
      for (const detectTruncation of [false, true]) {
        const port = await freePort();
        await using server = peer("ncat", [
          "-v",
          "--ssl",
          "-l",
          "127.0.0.1",
          String(port),
          "--ssl-cert",
          certs.server.certPath,
          "--ssl-key",
          certs.server.keyPath,
        ]); // deno-fmt-ignore
        await server.until(/Listening on/);
        const client = await tls().connect({ port, serverName: "localhost", ca: certs.ca, detectTruncation });
        server.child.stdin!.end("from the ncat server\n");
        const reading = await readToEnd(client);
        assert.deepEqual([reading.received, reading.ending], ["from the ncat server\n", "end"]);
        // Without detectTruncation a runtime may not know (undefined); it never claims a close_notify.
        assert.notEqual(reading.tls?.closeNotify, true);
        if (detectTruncation) assert.equal(reading.tls?.closeNotify, false);
        await client.close();
      }
    },
    { skip },
  );

  test("detectTruncation on a client: a listener that closes its socket sends close_notify", async () => {
    await using listener = await start({
      transport: tls(serverOptions()),
      protocol: async (conn) => {
        const socket = await conn.handshake();
        await socket.send("last words");
        await socket.recv(5);
        await socket.close();
      },
    });
    const client = await tls().connect({
      port: listener.port!,
      serverName: "localhost",
      ca: testCerts().ca,
      detectTruncation: true,
    });
    assert.equal(text(await client.recv(10, { timeout: 5000 })), "last words");
    assert.equal(client.tls?.closeNotify, undefined, "before the end");
    await client.send("bye!!");
    const reading = await readToEnd(client);
    assert.deepEqual([reading.received, reading.ending], ["", "end"]);
    assert.equal(reading.tls?.closeNotify, true);
    await client.close();
  }, { skip: opensslMissing });

  test("STARTTLS always tells: close() sends close_notify, a dropped carrier does not", async () => {
    const certs = testCerts();
    for (const how of ["close", "drop"] as const) {
      const upgrader = tls({ cert: certs.server.cert, key: certs.server.key });
      await using listener = await start({
        transport: memory(),
        protocol: async (conn) => {
          const plain = await conn.handshake();
          const secure = await upgrader.upgrade(plain, { isServer: true });
          await secure.send("upgraded");
          // The client answers once it has read everything: nothing is in flight when the carrier goes.
          await secure.recv(2);
          if (how === "close") await secure.close();
          else await plain.close();
        },
      });
      const plain = await memory().connect({ name: (listener.address as { name: string }).name });
      const secure = await tls().upgrade(plain, { serverName: "localhost", ca: certs.ca });
      assert.equal(text(await secure.recv(8, { timeout: 5000 })), "upgraded");
      await secure.send("ok");
      const reading = await readToEnd(secure);
      assert.deepEqual([reading.received, reading.ending], ["", "end"], how);
      assert.equal(reading.tls?.closeNotify, how === "close", `${how}: closeNotify`);
      await secure.close();
    }
  }, { skip: opensslMissing });
});
