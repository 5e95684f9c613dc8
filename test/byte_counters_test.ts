/**
 * Byte counters on tcp, tls, unix and memory: the socket's own
 * (`bytesReceived`, `bytesSent`, `recvCount`, `sendCount`, on both ends),
 * each connection's (`conn.bytesReceived`, `conn.bytesSent`: what its
 * protocol's socket carried, a PROXY header not included) and the
 * listener's totals in `info()`, running connections included.
 */
import assert from "node:assert/strict";
import { buildProxyHeader, type Connection, type Protocol, tcp, tls } from "../mod.ts";
import { suite, test } from "./_harness.ts";
import { signal, start, text, type TransportFixture, transports } from "./_fixtures.ts";
import { connectTls, opensslMissing, serverOptions, testCerts } from "./_certs.ts";

const fixtures: TransportFixture[] = [
  ...transports.filter((fx) => fx.name !== "tcp6"),
  { name: "tls", secure: true, make: () => tls(serverOptions()), connect: (l) => connectTls(l) },
];

/** What a connection said of itself when its protocol ended. */
interface Counted {
  conn: { received: number; sent: number };
  socket: { received: number; sent: number; recvCount: number; sendCount: number };
}

/** An echo that reports its counters once the client ended its stream. */
function countingEcho(done: (counted: Counted) => void, connections: Connection[] = []): Protocol {
  return async (conn) => {
    connections.push(conn);
    const socket = await conn.handshake();
    for await (const chunk of socket) await socket.send(chunk);
    done({
      conn: { received: conn.bytesReceived, sent: conn.bytesSent },
      socket: {
        received: socket.bytesReceived,
        sent: socket.bytesSent,
        recvCount: socket.recvCount,
        sendCount: socket.sendCount,
      },
    });
  };
}

const HEADER = buildProxyHeader({
  family: "inet",
  protocol: "stream",
  sourceAddress: "198.51.100.1",
  sourcePort: 1234,
  destinationAddress: "192.0.2.1",
  destinationPort: 443,
});

suite("byte counters", () => {
  for (const fx of fixtures) {
    const skip = fx.secure ? opensslMissing : false;

    test(`${fx.name}: both ends count every byte; the connection and info() agree`, async () => {
      const counted = signal<Counted>();
      const connections: Connection[] = [];
      await using listener = await start({
        transport: fx.make(),
        protocol: countingEcho(counted.resolve, connections),
      });
      const client = await fx.connect(listener);
      await client.send("hello");
      assert.equal(text(await client.recv(5, { timeout: 5000 })), "hello");
      // While it runs, the connection and the listener's totals already count it.
      const [conn] = connections;
      assert.equal(conn!.bytesReceived, 5);
      assert.equal(conn!.bytesSent, 5);
      assert.equal(listener.info().bytesReceived, 5);
      assert.equal(listener.info().bytesSent, 5);
      const more = "x".repeat(100_000);
      const reading = (async () => {
        let got = 0;
        while (got < more.length) got += (await client.recv(0, { timeout: 10_000 }))!.length;
      })();
      await client.send(more);
      await reading;
      await client.shutdown("write");
      const { conn: byConn, socket } = await counted.promise;
      const total = 5 + more.length;
      assert.deepEqual(byConn, { received: total, sent: total });
      assert.equal(socket.received, total);
      assert.equal(socket.sent, total);
      assert.ok(socket.recvCount >= 2 && socket.sendCount >= 2, JSON.stringify(socket));
      assert.equal(client.bytesSent, total);
      assert.equal(client.sendCount, 2);
      assert.equal(client.bytesReceived, total);
      assert.ok(client.recvCount >= 2);
      await listener.waitForConnections("==", 0);
      assert.equal(listener.info().bytesReceived, total);
      assert.equal(listener.info().bytesSent, total);
      assert.equal(conn!.bytesReceived, total); // still readable after the end
      await client.close();
    }, { skip });
  }

  for (const fx of [fixtures[0]!, fixtures.find((f) => f.name === "tls")!]) {
    test(`${fx.name} behind a PROXY header: the header is not counted`, async () => {
      const counted = signal<Counted>();
      await using listener = await start({
        transport: fx.make(),
        proxyHeader: true,
        protocol: countingEcho(counted.resolve),
      });
      const raw = await tcp().connect({ host: "127.0.0.1", port: listener.port! });
      await raw.send(HEADER);
      const client = fx.secure ? await tls().upgrade(raw, { serverName: "localhost", ca: testCerts().ca }) : raw;
      await client.send("abc");
      assert.equal(text(await client.recv(3, { timeout: 5000 })), "abc");
      await client.shutdown("write");
      const { conn } = await counted.promise;
      assert.deepEqual(conn, { received: 3, sent: 3 });
      await listener.waitForConnections("==", 0);
      assert.equal(listener.info().bytesReceived, 3);
      await client.close();
    }, { skip: fx.secure ? opensslMissing : false });
  }

  test("an empty send() is not counted; a string counts its UTF-8 bytes", async () => {
    const counted = signal<Counted>();
    await using listener = await start({ transport: fixtures[3]!.make(), protocol: countingEcho(counted.resolve) });
    const client = await fixtures[3]!.connect(listener);
    await client.send("");
    await client.send("été");
    assert.equal(client.bytesSent, 5);
    assert.equal(client.sendCount, 1);
    assert.equal((await client.recv(5, { timeout: 5000 }))!.length, 5);
    await client.shutdown("write");
    assert.deepEqual((await counted.promise).conn, { received: 5, sent: 5 });
    await client.close();
  });
});
