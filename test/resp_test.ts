/**
 * examples/resp_server.ts: its protocol under the memory transport's faults,
 * and the script as a real process on this runtime driven by the stock
 * `redis-cli` (Debian's redis-tools): commands, pipelining, errors.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { testProtocol } from "../testing.ts";
import { execute, respProtocol, RespStore } from "../examples/resp_protocol.ts";
import { suite, test } from "./_harness.ts";
import { text } from "./_fixtures.ts";
import { runtimeCommand } from "./_runtime.ts";

const REDIS_CLI = ["/usr/bin/redis-cli", "/usr/local/bin/redis-cli"].find((path) => existsSync(path));
const noRedisCli = REDIS_CLI === undefined ? "redis-cli is not installed (apt-get install redis-tools)" : undefined;

/** RESP2 array-of-bulk-strings encoding of one command. */
function command(...words: string[]): string {
  return `*${words.length}\r\n${words.map((word) => `$${new TextEncoder().encode(word).length}\r\n${word}\r\n`).join("")}`;
}

const PIPELINE = [
  command("PING"),
  command("SET", "k", "v a l"),
  command("GET", "k"),
  command("INCR", "n"),
  command("INCR", "n"),
  command("GET", "missing"),
  "PING\r\n", // inline, as telnet sends it
  command("ECHO", "héllo"),
  command("INCR", "k"),
  command("NOPE", "x"),
  command("DEL", "k", "n", "missing"),
].join("");
const REPLIES = "+PONG\r\n+OK\r\n$5\r\nv a l\r\n:1\r\n:2\r\n$-1\r\n+PONG\r\n$6\r\nhéllo\r\n" +
  "-ERR value is not an integer or out of range\r\n-ERR unknown command 'NOPE', with args beginning with: 'x'\r\n:2\r\n";

suite("resp example", () => {
  for (
    const [label, faults] of [
      ["one batch", {}],
      ["byte by byte", { fragment: { max: 1 }, seed: 3 }],
      ["coalesced 1-7 byte pieces", { fragment: { max: 7 }, coalesce: true, seed: 4 }],
    ] as const
  ) {
    test(`a pipelined batch over memory (${label}) gets every reply in order`, async () => {
      await testProtocol(respProtocol(), faults, async (client) => {
        const expected = new TextEncoder().encode(REPLIES).length;
        const reading = client.recv(expected, { timeout: 10_000 });
        await client.send(PIPELINE);
        assert.equal(text(await reading), REPLIES);
      });
    });
  }

  test("a SET keeps a copy of its value, not a view of the batch (a Buffer batch on Node.js)", () => {
    // Node.js hands the protocol Buffers, whose slice() is a view of the same memory: the store must not keep one.
    const batch = Buffer.from(command("SET", "k", "value"));
    const store = new RespStore();
    assert.deepEqual(execute(batch, store, []), { used: batch.length, close: false });
    batch.fill(0);
    const stored = store.values.get("k")!;
    assert.equal(text(stored), "value");
    assert.notEqual(stored.buffer, batch.buffer);
  });

  test("a broken request gets a protocol error and the connection closes", async () => {
    await testProtocol(respProtocol(), {}, async (client) => {
      await client.send("*1\r\n$x\r\n");
      assert.match(text(await client.recv(0, { timeout: 5000 }))!, /^-ERR Protocol error/);
      assert.equal(await client.recv(0, { timeout: 5000 }), null);
    });
  });

  test("examples/resp_server.ts answers redis-cli: commands, errors, pipelining (--pipe)", async () => {
    const [runtime, args] = runtimeCommand("examples/resp_server.ts");
    const server = spawn(runtime, [...args, "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      const { value } = await createInterface({ input: server.stdout! })[Symbol.asyncIterator]().next();
      const match = / listening on 127\.0\.0\.1:(\d+)$/.exec(String(value));
      assert.ok(match, `unexpected first line: ${value}`);
      const cli = (words: string[], input?: string) => run(REDIS_CLI!, ["-p", match[1]!, ...words], input);
      assert.equal(await cli(["PING"]), "PONG\n");
      assert.equal(await cli(["SET", "greeting", "hello world"]), "OK\n");
      assert.equal(await cli(["GET", "greeting"]), "hello world\n");
      assert.equal(await cli(["ECHO", "hi"]), "hi\n");
      assert.equal(await cli(["INCR", "visits"]), "1\n");
      assert.equal(await cli(["INCR", "visits"]), "2\n");
      // redis-cli prints an error reply, then an empty line.
      assert.equal((await cli(["INCR", "greeting"])).trim(), "ERR value is not an integer or out of range");
      assert.equal((await cli(["FLY", "me"])).trim(), "ERR unknown command 'FLY', with args beginning with: 'me'");
      // Several commands in one connection, one per line of input.
      assert.equal(await cli([], "SET a 1\nINCR a\nGET a\nDEL a\n"), "OK\n2\n2\n1\n");
      // --pipe writes everything at once and counts the replies: pipelining with the stock client.
      const lines = Array.from({ length: 2000 }, (_, i) => i % 2 === 0 ? command("SET", `key:${i >> 1}`, "x") : command("GET", `key:${i >> 1}`));
      lines.push(command("INCR", "key:0"));
      const piped = await cli(["--pipe"], lines.join(""));
      assert.match(piped, /errors: 1, replies: 2001/); // the INCR of "x" is the one error
      assert.equal(await cli(["GET", "key:999"]), "x\n");
    } finally {
      const exited = new Promise((resolve) => server.once("exit", resolve));
      server.kill("SIGTERM");
      await exited;
    }
  }, { timeout: 60_000, skip: noRedisCli });
});

/** Runs a program to its exit and returns its stdout (stderr too, appended, so a failure shows it). */
function run(program: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (err += chunk));
    child.once("error", reject);
    child.once("close", () => resolve(out + err));
    // A program that exits without reading its input (redis-cli given a command) makes this write fail with EPIPE:
    // its exit and output are the result, not the write's error.
    child.stdin!.on("error", () => {});
    child.stdin!.end(input ?? "");
  });
}
