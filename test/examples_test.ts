/**
 * The examples: their protocols over memory and tcp, and each script started
 * as a real process on this runtime.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { tcp } from "../mod.ts";
import { echo } from "../examples/echo_protocol.ts";
import { reverse } from "../examples/reverse_protocol.ts";
import { suite, test } from "./_harness.ts";
import { readAll, roundTrip, start, text, transports } from "./_fixtures.ts";
import { runtimeCommand } from "./_runtime.ts";

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
});
