/**
 * The framing reads and sendv beyond the conformance cases: a batch cut
 * into single bytes on the memory transport, and a custom transport's
 * socket, which `conn.handshake()` completes with them.
 */
import assert from "node:assert/strict";
import { type Socket, tcp } from "../mod.ts";
import { suite, test } from "./_harness.ts";
import { doubled, lineDoubler } from "./_conformance_framing.ts";
import { faultyMemory, plainTcp, start, text } from "./_fixtures.ts";

const numbers = Array.from({ length: 120 }, (_, i) => i * 37 + 1);
const expected = numbers.map((n) => `${2 * n}\n`).join("");

suite("framing", () => {
  for (
    const fixture of [
      faultyMemory("byte by byte", () => ({ seed: 31, fragment: { max: 1 } })),
      faultyMemory("byte by byte, window 1", () => ({ seed: 32, fragment: { max: 1 }, window: 1 })),
      faultyMemory("coalesced", () => ({ seed: 33, coalesce: true, fragment: { max: 5 } })),
    ]
  ) {
    test(`a pipelined batch over memory ${fixture.name} parses the same`, async () => {
      await using listener = await start({ transport: fixture.make(), protocol: lineDoubler });
      assert.equal(await doubled(await fixture.connect(listener), numbers), expected);
    });
  }

  test("a custom transport's socket gets readAvailable, unshift, bytesBuffered and sendv at handshake", async () => {
    const wrapping = plainTcp();
    let completed: Socket | undefined;
    await using listener = await start({
      transport: wrapping,
      protocol: async (conn) => {
        completed = await conn.handshake();
        return lineDoubler(conn);
      },
    });
    const client = await tcp().connect({ host: "127.0.0.1", port: listener.port! });
    assert.equal(await doubled(client, numbers), expected);
    assert.equal(typeof completed!.readAvailable, "function");
    await client.close();
  });

  test("the completed socket's own buffer: unshift, recv(n) across it, readAvailable(min), sendv", async () => {
    const wrapping = plainTcp();
    await using listener = await start({
      transport: wrapping,
      protocol: async (conn) => {
        const socket = await conn.handshake();
        const head = (await socket.recv(2, { timeout: 5000 }))!;
        socket.unshift(head);
        assert.equal(socket.bytesBuffered, 2);
        const all = (await socket.readAvailable(6, { timeout: 5000 }))!; // waits past the unshifted bytes
        socket.unshift(all.subarray(4));
        const word = (await socket.recv(4, { timeout: 5000 }))!;
        await socket.sendv([text(all.subarray(0, 4))!, "|", word]);
        await socket.shutdown("write");
      },
    });
    const client = await tcp().connect({ host: "127.0.0.1", port: listener.port! });
    await client.send("ab");
    await client.send("cdefgh");
    const back = [];
    for await (const chunk of client) back.push(text(chunk));
    assert.equal(back.join(""), "abcd|efgh");
    await client.close();
  });
});


