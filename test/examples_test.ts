/**
 * The examples: their protocols over memory and tcp, under the memory
 * transport's faults with `testProtocol`, and each script started as a real
 * process on this runtime. The cases named "guide: ..." are the code blocks
 * of docs/testing.md, verbatim; a case below checks that they match.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { ClosedError, type Socket, tcp } from "../mod.ts";
import { testProtocol, VirtualClock } from "../testing.ts";
import { echo } from "../examples/echo_protocol.ts";
import { reverse } from "../examples/reverse_protocol.ts";
import { suite, test } from "./_harness.ts";
import { readAll, roundTrip, start, text, transports } from "./_fixtures.ts";
import { runtimeCommand } from "./_runtime.ts";

// ---- docs/testing.md: every block below is shown there, character for character ----

const decode = (bytes: Uint8Array | null) => new TextDecoder().decode(bytes ?? new Uint8Array());

/** Reads until the server ends the stream, however the bytes were split. */
async function readText(socket: Socket): Promise<string> {
  const decoder = new TextDecoder();
  let out = "";
  for await (const chunk of socket) out += decoder.decode(chunk, { stream: true });
  return out + decoder.decode();
}

test("guide: echo under 1-byte fragments", async () => {
  await testProtocol(echo, { fragment: { max: 1 } }, async (client) => {
    await client.send("fragmented");
    // recv(n) gathers exactly n bytes, however they were split.
    assert.equal(decode(await client.recv(10)), "fragmented");
  });
});

test("guide: reverse reassembles lines split into 1 to 4 byte pieces", async () => {
  await testProtocol(reverse, { fragment: { max: 4 } }, async (client) => {
    await client.send("hello world\nsecond line\n");
    await client.shutdown("write");
    assert.equal(await readText(client), "dlrow olleh\nenil dnoces\n");
  });
});

test("guide: reverse answers every line when several arrive in one read", async () => {
  await testProtocol(reverse, { coalesce: true }, async (client) => {
    for (const line of ["one\n", "two\n", "three\n"]) await client.send(line);
    await client.shutdown("write");
    assert.equal(await readText(client), "eno\nowt\neerht\n");
  });
});

test("guide: reverse when reads straddle lines", async () => {
  await testProtocol(reverse, { coalesce: true, fragment: { max: 5 } }, async (client) => {
    for (const line of ["ab\n", "cdefgh\r\n", "\n", "ij\n"]) await client.send(line);
    await client.shutdown("write");
    assert.equal(await readText(client), "ba\nhgfedc\n\nji\n");
  });
});

test("guide: echo streams 4 KiB through a 16-byte window", async () => {
  await testProtocol(echo, { window: 16, fragment: { max: 7 } }, async (client) => {
    const message = "0123456789abcdef".repeat(256);
    // Send and read at once: with a 16-byte window, a client that sends
    // everything before reading would wait forever on its own send.
    const sending = client.send(message).then(() => client.shutdown("write"));
    assert.equal(await readText(client), message);
    await sending;
  });
});

test("guide: a reset somewhere in the first 2 KiB rejects reads with ECONNRESET", async () => {
  await testProtocol(echo, { reset: { after: { min: 1, max: 2048 } } }, async (client, { listener }) => {
    const sending = client.send("x".repeat(4096)).catch(() => {});
    const error = await readText(client).catch((e) => e);
    assert.ok(error instanceof ClosedError && error.code === "ECONNRESET", `got ${error}`);
    await sending;
    // The listener saw the connection end; testProtocol still checks that nothing leaked.
    await listener.waitForConnections("==", 0, { timeout: 1000 });
    assert.equal(listener.info().terminated, 1);
  });
});

test("guide: 250 ms of latency each way on a virtual clock costs no real time", async () => {
  const clock = new VirtualClock();
  await testProtocol(reverse, { latency: 250, scheduler: clock }, async (client) => {
    await client.send("ping\n");
    assert.equal(decode(await client.recv(5)), "gnip\n");
    assert.equal(clock.now(), 500);
  });
});

test("guide: a failure names its seed, and passing the seed back replays it", async () => {
  const naive = (seed?: number) =>
    testProtocol(echo, { seed, fragment: { max: 3 } }, async (client) => {
      await client.send("hello");
      // Wrong: one read may hold only part of the reply.
      assert.equal(decode(await client.recv(0)), "hello");
    });
  const error = await naive().catch((e) => e);
  const seed = Number(/seed (\d+)/.exec(error.message)![1]);
  const again = await naive(seed).catch((e) => e);
  assert.equal(again.message, error.message);
});

test("echo survives 1-3 byte fragments and a 16-byte window", async () => {
  await testProtocol(echo, { fragment: { max: 3 }, window: 16 }, async (client) => {
    await client.send("hello, fragmented world");
    assert.equal(new TextDecoder().decode((await client.recv(23))!), "hello, fragmented world");
  });
});

// ---- the blocks end here ----

/** The ```ts blocks of a markdown text. */
function codeBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((match) => match[1]!);
}

const here = (path: string) => new URL(`../${path}`, import.meta.url);
const thisFile = readFileSync(here("test/examples_test.ts"), "utf8");

test("docs/testing.md shows only code that runs in this file", () => {
  const blocks = codeBlocks(readFileSync(here("docs/testing.md"), "utf8"));
  assert.ok(blocks.length >= 8, `only ${blocks.length} blocks found`);
  for (const block of blocks) assert.ok(thisFile.includes(block), `docs/testing.md block not in this file:\n${block}`);
});

const readme = readFileSync(here("README.md"), "utf8");
const readmeSection = /^## Testing your protocol\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1];
test("README's 'Testing your protocol' test runs in this file (imports aside)", () => {
  const block = codeBlocks(readmeSection!)[0];
  assert.ok(block !== undefined, "the section has no ts block");
  const body = block.split("\n").filter((line) => !line.startsWith("import ")).join("\n").trim();
  assert.ok(thisFile.includes(body), `README test not in this file:\n${body}`);
}, { skip: readmeSection === undefined && "README has no 'Testing your protocol' section yet" });

suite("examples", () => {
  for (const fx of transports.filter((t) => t.name === "tcp" || t.name === "memory")) {
    test(`echo over ${fx.name}`, async () => {
      await using listener = await start({ transport: fx.make(), protocol: echo });
      const client = await fx.connect(listener);
      assert.equal(await roundTrip(client, "echo me"), "echo me");
      await client.close();
    });

    test(`reverse over ${fx.name}: lines split across sends, CRLF and LF`, async () => {
      await using listener = await start({ transport: fx.make(), protocol: reverse });
      const client = await fx.connect(listener);
      for (const part of ["Hello, ", "World\r\n", "abc\nxy", "z\n"]) await client.send(part);
      await client.shutdown("write");
      assert.equal(text(await readAll(client)), "dlroW ,olleH\ncba\nzyx\n");
      await client.close();
    });
  }

  test("reverse closes a client whose line exceeds 4 KiB, however the line is split", async () => {
    await testProtocol(reverse, { seed: 4, fragment: { max: 700 } }, async (client) => {
      await client.send("x".repeat(5000));
      // Closing with unread bytes resets the client, as TCP does; with nothing unread it is a clean end.
      const end = await client.recv(0, { timeout: 5000 }).catch((e) => e);
      assert.ok(end === null || (end instanceof ClosedError && end.code === "ECONNRESET"), `got ${end}`);
    });
  });

  test("reverse closes a client whose line exceeds 4 KiB", async () => {
    await using listener = await start({ transport: transports[3]!.make(), protocol: reverse });
    const client = await transports[3]!.connect(listener);
    await client.send("x".repeat(5000));
    assert.equal(await client.recv(0, { timeout: 5000 }), null);
    await client.close();
  });

  for (
    const [script, input, expected] of [
      ["examples/echo.ts", "ping\n", "ping\n"],
      ["examples/reverse.ts", "ping\n", "gnip\n"],
    ] as const
  ) {
    test(`${script} runs as a program on this runtime`, async () => {
      const [command, args] = runtimeCommand(script);
      const child = spawn(command, [...args, "--port", "0"], { stdio: ["ignore", "pipe", "inherit"] });
      try {
        const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
        const { value } = await lines.next();
        const match = / listening on 127\.0\.0\.1:(\d+)$/.exec(String(value));
        assert.ok(match, `unexpected first line: ${value}`);
        const client = await tcp().connect({ port: Number(match[1]) });
        assert.equal(await roundTrip(client, input), expected);
        await client.close();
      } finally {
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.kill("SIGTERM");
        await exited;
      }
    }, { timeout: 60_000 });
  }

  /** Runs an example to its exit: its status and what it printed on stderr. */
  async function runToExit(script: string, args: string[]): Promise<{ status: number | null; stderr: string }> {
    const [command, runtimeArgs] = runtimeCommand(script);
    const child = spawn(command, [...runtimeArgs, ...args], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const status = await new Promise<number | null>((resolve) => child.once("close", resolve));
    return { status, stderr };
  }

  test("an example given --port abc exits with status 1 and one line naming the flag", async () => {
    const { status, stderr } = await runToExit("examples/echo.ts", ["--port", "abc"]);
    assert.equal(status, 1);
    assert.equal(stderr, 'echo: --port must be a whole number, got "abc"\n');
  }, { timeout: 60_000 });

  test("an example whose port is taken exits with status 1 and one line, no stack trace", async () => {
    await using taken = await start({ transport: tcp({ host: "127.0.0.1" }), protocol: () => {} });
    const { status, stderr } = await runToExit("examples/reverse.ts", ["--port", String(taken.port)]);
    assert.equal(status, 1);
    assert.match(stderr, /^reverse: cannot listen on tcp 127\.0\.0\.1:\d+: .*(EADDRINUSE|in use)/i);
    assert.equal(stderr.trimEnd().split("\n").length, 1, `more than one line: ${stderr}`);
  }, { timeout: 60_000 });
});
