/**
 * The line reader: endings, chunk boundaries, the length limit at its exact
 * edge, the last unterminated line, idle timeouts, and any chunking giving
 * the same lines (a property test).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { memory, type Socket, TimeoutError } from "../mod.ts";
import { lines, LineTooLongError } from "../src/lines.ts";
import { suite, test } from "./_harness.ts";
import { bytes, start } from "./_fixtures.ts";

/** A socket stand-in that hands out the given chunks, then end of stream. */
function chunked(chunks: (string | Uint8Array)[]): Pick<Socket, "recv"> {
  const queue = chunks.map((chunk) => (typeof chunk === "string" ? bytes(chunk) : chunk));
  return { recv: () => Promise.resolve(queue.shift() ?? null) };
}

async function collect(socket: Pick<Socket, "recv">, maxLength?: number): Promise<string[]> {
  const out: string[] = [];
  for await (const line of lines(socket, { maxLength })) out.push(line);
  return out;
}

async function failure(socket: Pick<Socket, "recv">, maxLength: number): Promise<{ error: unknown; seen: string[] }> {
  const seen: string[] = [];
  try {
    for await (const line of lines(socket, { maxLength })) seen.push(line);
  } catch (error) {
    return { error, seen };
  }
  return { error: undefined, seen };
}

suite("lines", () => {
  test("LF and CRLF endings, several lines per chunk, lines across chunks", async () => {
    const got = await collect(chunked(["one\ntw", "o\r", "\nthree\r\nfo", "", "ur\n"]));
    assert.deepEqual(got, ["one", "two", "three", "four"]);
  });

  test("empty lines are yielded; a bare CR inside a line is kept", async () => {
    assert.deepEqual(await collect(chunked(["\n\r\na\rb\n"])), ["", "", "a\rb"]);
  });

  test("the last line without an ending is yielded at end of stream, an empty one is not", async () => {
    assert.deepEqual(await collect(chunked(["a\nlast"])), ["a", "last"]);
    assert.deepEqual(await collect(chunked(["a\n"])), ["a"]);
    assert.deepEqual(await collect(chunked(["a\nb\r"])), ["a", "b"]);
  });

  test("multi-byte UTF-8 split across chunks decodes whole", async () => {
    const data = bytes("héllo wörld ✓\n");
    const got = await collect(chunked([data.subarray(0, 2), data.subarray(2, 9), data.subarray(9)]));
    assert.deepEqual(got, ["héllo wörld ✓"]);
  });

  test("maxLength: a line of exactly maxLength passes, with LF or CRLF, in one chunk or many", async () => {
    const max = 8;
    assert.deepEqual(await collect(chunked(["12345678\n"]), max), ["12345678"]);
    assert.deepEqual(await collect(chunked(["12345678\r\n"]), max), ["12345678"]);
    assert.deepEqual(await collect(chunked(["1234", "5678", "\r", "\n"]), max), ["12345678"]);
    assert.deepEqual(await collect(chunked(["12345678\r"]), max), ["12345678"]);
  });

  test("maxLength + 1 fails with LineTooLongError, before the line's end arrives", async () => {
    const max = 8;
    for (
      const chunks of [["123456789\n"], ["12345678", "9"], ["1234", "56789\r\n"], ["ok\n12345678x"], ["123456789\r\n"]]
    ) {
      const { error, seen } = await failure(chunked(chunks), max);
      assert.ok(error instanceof LineTooLongError, `chunks ${JSON.stringify(chunks)}: ${error}`);
      assert.equal(error.code, "ELINETOOLONG");
      assert.equal(error.maxLength, max);
      assert.deepEqual(seen, chunks[0] === "ok\n12345678x" ? ["ok"] : []);
    }
  });

  test("a peer streaming an endless line is stopped after maxLength bytes", async () => {
    let served = 0;
    const endless: Pick<Socket, "recv"> = {
      recv: () => {
        served += 1000;
        return Promise.resolve(bytes("x".repeat(1000)));
      },
    };
    const { error } = await failure(endless, 4096);
    assert.ok(error instanceof LineTooLongError);
    assert.equal(served, 5000, "the reader stops at the first chunk that passes the limit");
  });

  test("timeout: a silent peer fails the read with TimeoutError", async () => {
    await using listener = await start({
      transport: memory(),
      protocol: async (conn) => void (await (await conn.handshake()).recv().catch(() => null)),
    });
    const client = await memory().connect({ name: (listener.address as { name: string }).name });
    const begun = performance.now();
    const reader = lines(client, { timeout: 30 })[Symbol.asyncIterator]();
    await assert.rejects(reader.next(), TimeoutError);
    assert.ok(performance.now() - begun >= 25, "not before the timeout");
    await client.close();
  });

  test("wrong arguments throw at the call, naming the option", () => {
    const socket = chunked([]);
    assert.throws(() => lines(socket, { maxLength: 0 }), /maxLength/);
    assert.throws(() => lines(socket, { timeout: -1 }), /timeout/);
    assert.throws(() => lines(socket, { maxLen: 5 } as never), /unknown option "maxLen"/);
    assert.throws(() => lines({} as never), TypeError);
  });

  test("property: any chunking of the same bytes gives the same lines", async () => {
    const line = fc.string({ unit: fc.constantFrom("a", "é", " ", "\r", "✓"), maxLength: 12 });
    await fc.assert(
      fc.asyncProperty(
        fc.array(line, { maxLength: 8 }),
        fc.array(fc.boolean(), { maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 40 }),
        async (texts, crlf, cuts) => {
          // A line's own content must not end in CR, or CRLF would swallow it.
          const clean = texts.map((t) => t.replace(/\r+$/, ""));
          const data = bytes(clean.map((t, i) => `${t}${crlf[i] ? "\r\n" : "\n"}`).join(""));
          const chunks: Uint8Array[] = [];
          for (let at = 0, i = 0; at < data.length; i++) {
            const size = cuts[i % cuts.length]!;
            chunks.push(data.subarray(at, at + size));
            at += size;
          }
          assert.deepEqual(await collect(chunked(chunks), 64), clean);
        },
      ),
      { numRuns: 300, seed: 5 },
    );
  });
});
