/**
 * A connection's peer is read once, when it is accepted: after the peer
 * resets the connection, the failure log, `conn.peer` and the socket's
 * `peername()` still name it (Node.js and Bun forget a socket's peer once
 * it is gone, so reading it late gave `connection 2 from :0 failed`).
 */
import assert from "node:assert/strict";
import { type Address, type Connection, type InetAddress, type Socket, tcp } from "../mod.ts";
import { suite, test } from "./_harness.ts";
import { RecordingLogger, signal, start } from "./_fixtures.ts";

const hosts = [{ host: "127.0.0.1", shown: (port: number) => `127.0.0.1:${port}` }, {
  host: "::1",
  shown: (port: number) => `[::1]:${port}`,
}];

suite("peer address", () => {
  for (const { host, shown } of hosts) {
    test(`${host}: after a reset the failure log, conn.peer and peername() still name the peer`, async () => {
      const logger = new RecordingLogger();
      const accepted = signal<{ conn: Connection; socket: Socket }>();
      const failed = signal<{ error: unknown; peername: Address }>();
      await using listener = await start({
        transport: tcp({ host, port: 0 }),
        logger,
        protocol: async (conn) => {
          const socket = await conn.handshake();
          accepted.resolve({ conn, socket });
          // More than the client will ever read: its close with unread bytes is a reset, which
          // fails the read or (on Deno, where the read may see end of stream first) the send.
          const sending = socket.send(new Uint8Array(32 * 1024 * 1024));
          sending.catch(() => {});
          try {
            await socket.recv(0);
            await sending;
          } catch (error) {
            failed.resolve({ error, peername: socket.peername() });
            throw error;
          }
        },
      });
      const client = await tcp().connect({ host, port: listener.port! });
      const local = client.sockname() as InetAddress;
      assert.equal((await client.recv(1, { timeout: 5000 }))?.length, 1);
      client.destroy();
      const { conn } = await accepted.promise;
      const { error, peername } = await failed.promise;
      assert.ok(["ECONNRESET", "EPIPE"].includes((error as { code?: string }).code!), `the protocol got ${error}`);
      await listener.waitForConnections("==", 0, { timeout: 5000 });
      assert.equal(listener.info().failed, 1);
      assert.deepEqual(logger.at("error"), [`corral: [${listener.ref}] connection 1 from ${shown(local.port)} failed`]);
      assert.deepEqual(conn.peer, { address: local.address, port: local.port, family: local.family });
      assert.deepEqual(peername, conn.peer);
    });
  }
});
