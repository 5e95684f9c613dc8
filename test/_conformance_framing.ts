/**
 * The conformance cases of the reads a framing parser needs
 * (`readAvailable`, `unshift`, `bytesBuffered`) and of batched writes
 * (`sendv`): registered by `defineConformance` for every transport fixture,
 * memory faults and TLS included.
 */
import assert from "node:assert/strict";
import { ClosedError, type Connection, type Socket, TimeoutError } from "../mod.ts";
import type { TestBody } from "./_harness.ts";
import { bytes, pattern, readAll, sameBytes, signal, start, text, type TransportFixture } from "./_fixtures.ts";

/** Lines in, one reply per line, parsed with readAvailable/unshift and answered per batch with sendv. */
export async function lineDoubler(conn: Connection): Promise<void> {
  const socket = await conn.handshake();
  let need = 1;
  for (let batch; (batch = await socket.readAvailable(need)) !== null;) {
    const replies: string[] = [];
    let start = 0;
    for (let end; (end = batch.indexOf(10, start)) !== -1; start = end + 1) {
      replies.push(`${2 * Number(text(batch.subarray(start, end)))}\n`);
    }
    const tail = batch.subarray(start);
    socket.unshift(tail);
    need = tail.length + 1;
    if (replies.length > 0) await socket.sendv(replies);
  }
}

/** Registers the framing cases through the suite's `test` (which knows what each fixture skips). */
export function defineFramingCases(fx: TransportFixture, test: (name: string, body: TestBody) => void): void {
  test("readAvailable returns every buffered byte as one chunk", async () => {
    const go = signal();
    await using listener = await start({
      transport: fx.make(),
      protocol: async (conn) => {
        const socket = await conn.handshake();
        for (const part of ["ab", "cd", "ef"]) await socket.send(part);
        await go.promise;
        await socket.send("gh");
      },
    });
    const client = await fx.connect(listener);
    const first = await client.readAvailable(6, { timeout: 5000 });
    assert.equal(text(first), "abcdef");
    assert.equal(client.bytesBuffered, 0);
    go.resolve();
    assert.equal(text(await client.readAvailable(0, { timeout: 5000 })), "gh");
    assert.equal(await client.readAvailable(), null);
    await client.close();
  });

  test("unshift puts bytes back in front, counted by bytesBuffered", async () => {
    await using listener = await start({
      transport: fx.make(),
      protocol: async (conn) => {
        const socket = await conn.handshake();
        await socket.send("hello world");
        await socket.recv(0).catch(() => null);
      },
    });
    const client = await fx.connect(listener);
    const all = (await client.readAvailable(11, { timeout: 5000 }))!;
    client.unshift(all.subarray(5));
    client.unshift(all.subarray(0, 5));
    assert.equal(client.bytesBuffered, 11);
    assert.equal(text(await client.recv(5)), "hello");
    assert.equal(client.bytesBuffered, 6);
    assert.equal(text(await client.readAvailable()), " world");
    assert.equal(client.bytesBuffered, 0);
    const pending = client.readAvailable(1, { timeout: 5000 }).catch((e) => e);
    assert.throws(() => client.unshift(bytes("x")), TypeError);
    await client.close();
    await pending;
  });

  test("readAvailable times out keeping what it has, and fails on a short end of stream", async () => {
    const go = signal();
    await using listener = await start({
      transport: fx.make(),
      protocol: async (conn) => {
        const socket = await conn.handshake();
        await socket.send("abc");
        await go.promise;
        await socket.send("de");
      },
    });
    const client = await fx.connect(listener);
    const error = await client.readAvailable(10, { timeout: 50 }).catch((e) => e);
    assert.ok(error instanceof TimeoutError, `expected TimeoutError, got ${error}`);
    assert.equal(text(await client.readAvailable(3, { timeout: 5000 })), "abc");
    go.resolve();
    const short = await client.readAvailable(10, { timeout: 5000 }).catch((e) => e);
    assert.ok(short instanceof ClosedError, `expected ClosedError, got ${short}`);
    await assert.rejects(client.readAvailable(-1), RangeError);
    await client.close();
  });

  test("sendv sends a batch in order, as one send, and copies its buffers", async () => {
    const reused = bytes("one,");
    await using listener = await start({
      transport: fx.make(),
      protocol: async (conn) => {
        const socket = await conn.handshake();
        const sending = socket.sendv([reused, "two,", new Uint8Array(0), bytes("three")]);
        reused.fill(0x21); // sendv copied it already
        await sending;
        assert.equal(socket.sendCount, 1);
        assert.equal(socket.bytesSent, 13);
        await socket.sendv([]);
        await assert.rejects(socket.sendv("no" as unknown as string[]), TypeError);
        await assert.rejects(socket.sendv([1 as unknown as Uint8Array]), TypeError);
        await socket.shutdown("write");
        await assert.rejects(socket.sendv(["late"]), ClosedError);
      },
    });
    const client = await fx.connect(listener);
    assert.equal(text(await readAll(client)), "one,two,three");
    await client.close();
  });

  test("a pipelined batch parses the same whatever its fragments (readAvailable, unshift, sendv)", async () => {
    await using listener = await start({ transport: fx.make(), protocol: lineDoubler });
    const client = await fx.connect(listener);
    const numbers = Array.from(pattern(400, 5), (byte, i) => byte * 1000 + i);
    const expected = numbers.map((n) => `${2 * n}\n`).join("");
    // Read while sending: the replies fill a small window before the batch is all sent. No
    // half-close: a Bun server whose TLS runs over a carrier stops sending after one.
    const reading = client.recv(expected.length, { timeout: 10_000 });
    await client.send(numbers.map((n) => `${n}\n`).join(""));
    const back = (await reading)!;
    assert.ok(sameBytes(back, bytes(expected)), `got ${back.length} bytes, expected ${expected.length}`);
    await client.close();
  });
}

/** Sends `lines` as one batch through a `lineDoubler` and reads the replies. */
export async function doubled(client: Socket, lines: readonly number[]): Promise<string> {
  const reading = readAll(client);
  await client.send(lines.map((n) => `${n}\n`).join(""));
  await client.shutdown("write");
  return text(await reading)!;
}
