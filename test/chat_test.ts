/**
 * The chat example: its protocol over the memory transport (join, broadcast
 * to others only, switching rooms, errors, long lines, slow members, BYE on
 * stop, idle timeout), 50 TCP clients in 5 rooms with every delivery
 * counted, a real `ncat` client, and examples/chat.ts as a program.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { tcp } from "../mod.ts";
import { tls } from "../transports/tls.ts";
import { chat, chatRooms } from "../examples/chat_protocol.ts";
import { ChatClient } from "./_chat_client.ts";
import { suite, test } from "./_harness.ts";
import { start, transports } from "./_fixtures.ts";
import { runtimeCommand } from "./_runtime.ts";

const memoryFixture = transports.find((t) => t.name === "memory")!;


/**
 * A chat listener over memory unless told otherwise. Over memory the
 * closeTimeout defaults to 200 ms: a memory socket stays open after both
 * ends sent end of stream (a tcp one closes), so the server's lingering
 * close of a kicked client lasts until that timeout.
 */
async function chatListener(
  options: Parameters<typeof chat>[0] = {},
  listen: { shutdownTimeout?: number; transport?: ReturnType<typeof memoryFixture.make> } = {},
) {
  const rooms = options.rooms ?? chatRooms();
  const closeTimeout = options.closeTimeout ?? (listen.transport === undefined ? 200 : undefined);
  const listener = await start({
    transport: listen.transport ?? memoryFixture.make(),
    protocol: chat({ ...options, rooms, closeTimeout }),
    shutdownTimeout: listen.shutdownTimeout,
  });
  return { listener, rooms };
}

/**
 * examples/chat.ts as a program on a free port, with `flags`. Disposing of
 * it kills it if it is still running and waits for it to exit.
 */
function chatProgram(flags: string[] = []) {
  const [command, args] = runtimeCommand("examples/chat.ts");
  const child = spawn(command, [...args, "--port", "0", ...flags], { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const out = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return {
    child,
    /** The exit code, once it exited. */
    exited,
    /** Its first line of output, where it says what it listens on. */
    firstLine: async (): Promise<string> => String((await withTimeout(out.next(), 30_000)).value),
    [Symbol.asyncDispose]: async (): Promise<void> => {
      if (child.exitCode === null && child.signalCode === null) process.kill(child.pid!, "SIGKILL");
      await exited;
    },
  };
}

suite("chat", () => {
  test("join, then a line goes to every other member of the room and not back to its sender", async () => {
    const { listener, rooms } = await chatListener();
    await using _ = listener;
    const [a, b, c] = await ChatClient.connectAll(listener, 3);
    for (const client of [a, b, c]) await client.join("lobby");
    assert.equal(rooms.count("lobby"), 3);
    await a.send("hello everyone");
    assert.equal(await b.next(), "hello everyone");
    assert.equal(await c.next(), "hello everyone");
    await a.expectNothingQueued("lobby");
    await b.send("  hi there\r");
    assert.equal(await a.next(), "hi there", "lines are trimmed, CRLF accepted");
    assert.equal(await c.next(), "hi there");
    for (const client of [a, b, c]) await client.expectNothingQueued("lobby");
    for (const client of [a, b, c]) await client.socket.close();
  });

  test("switching rooms leaves the previous one", async () => {
    const { listener, rooms } = await chatListener();
    await using _ = listener;
    const [a, b, c] = await ChatClient.connectAll(listener, 3);
    await a.join("red");
    await b.join("red");
    await c.join("blue");
    await a.join("blue");
    assert.deepEqual([rooms.count("red"), rooms.count("blue")], [1, 2]);
    await b.send("anyone in red?");
    await c.send("welcome to blue");
    assert.equal(await a.next(), "welcome to blue", "a hears blue, not red");
    await b.expectNothingQueued("red");
    await a.expectNothingQueued("blue");
    for (const client of [a, b, c]) await client.socket.close();
  });

  test("a line before any JOIN is answered ERR join a room first; blank lines are ignored", async () => {
    const { listener } = await chatListener();
    await using _ = listener;
    const a = await ChatClient.connect(listener);
    await a.send("hello?");
    assert.equal(await a.next(), "ERR join a room first");
    await a.send("JOIN"); // no room name: an ordinary line, as in the seed
    assert.equal(await a.next(), "ERR join a room first");
    await a.socket.send("\n   \r\n");
    await a.join("lobby");
    await a.socket.close();
  });

  test("a line over the limit gets ERR line too long and the connection closes; others carry on", async () => {
    const { listener, rooms } = await chatListener({ maxLineLength: 100 });
    await using _ = listener;
    const [a, b] = await ChatClient.connectAll(listener, 2);
    await a.join("lobby");
    await b.join("lobby");
    await a.send("x".repeat(100)); // exactly the limit: fine
    assert.equal(await b.next(), "x".repeat(100));
    await a.socket.send("y".repeat(101)); // over it, before any newline
    assert.equal(await a.next(), "ERR line too long");
    assert.equal(await a.next(), null);
    await listener.waitForConnections("==", 1);
    assert.equal(rooms.count("lobby"), 1);
    await b.expectNothingQueued("lobby");
    await a.socket.close();
    await b.socket.close();
  });

  test("the default limit is 4 KiB", async () => {
    const { listener } = await chatListener();
    await using _ = listener;
    const a = await ChatClient.connect(listener);
    await a.join("lobby");
    await a.send("z".repeat(4097));
    assert.equal(await a.next(), "ERR line too long");
    assert.equal(await a.next(), null);
    await a.socket.close();
  });

  test("over tcp: a 256 KiB line still gets ERR line too long before the close", async () => {
    const { listener } = await chatListener({}, { transport: tcp({ host: "127.0.0.1", port: 0 }) });
    await using _ = listener;
    const a = await ChatClient.connect(listener);
    await a.join("lobby");
    await a.socket.send("w".repeat(256 * 1024));
    assert.equal(await a.next(), "ERR line too long");
    assert.equal(await a.next(), null);
    await a.socket.close();
  });

  test("a member that stops reading is disconnected with ERR too slow; the room carries on", async () => {
    const { listener, rooms } = await chatListener({ outboxLimit: 4096 });
    await using _ = listener;
    const sender = await ChatClient.connect(listener);
    const reader = await ChatClient.connect(listener);
    const slow = await ChatClient.connect(listener, 1); // a 1-byte receive window
    for (const client of [sender, reader, slow]) await client.join("lobby");
    const body = "m".repeat(1000);
    let sent = 0;
    // Bounded: the slow member can absorb its socket buffer plus 4 KiB, far less than 300 KB.
    while (rooms.count("lobby") === 3 && sent < 300) {
      await sender.send(`${sent} ${body}`);
      assert.equal(await reader.next(), `${sent} ${body}`);
      sent++;
    }
    assert.equal(rooms.count("lobby"), 2, `still a member after ${sent} messages`);
    // Now read what the slow member was sent: a prefix of the messages, in order, then the reason.
    const got: string[] = [];
    for (let line = await slow.next(); line !== null && got.length <= sent + 1; line = await slow.next()) {
      got.push(line);
    }
    assert.equal(got.at(-1), "ERR too slow");
    const messages = got.slice(0, -1);
    assert.ok(messages.length < sent, `${messages.length} of ${sent} messages were buffered`);
    messages.forEach((line, i) => assert.equal(line, `${i} ${body}`));
    await sender.send("still here");
    assert.equal(await reader.next(), "still here");
    for (const client of [sender, reader, slow]) await client.socket.close();
  });

  test("on stop every client gets BYE server shutting down, after its queued lines, then the socket closes", async () => {
    // The tcp case below checks that the server closes when the client does, before the timeout.
    const { listener, rooms } = await chatListener();
    const clients = await ChatClient.connectAll(listener, 2);
    const lurker = await ChatClient.connect(listener); // never joined
    for (const client of clients) await client.join("lobby");
    await clients[0]!.send("last words");
    assert.equal(await clients[1]!.next(), "last words");
    await lurker.send("hi?");
    assert.equal(await lurker.next(), "ERR join a room first");
    const stopped = listener.stop();
    for (const client of [...clients, lurker]) {
      assert.equal(await client.next(), "BYE server shutting down");
      assert.equal(await client.next(), null);
      await client.socket.close();
    }
    await stopped;
    assert.equal(listener.info().allConnections, 0);
    assert.equal(rooms.count("lobby"), 0);
    assert.equal(listener.info().failed, 0);
  });

  test("over tcp: BYE on stop, and the server closes as soon as the client does", async () => {
    const tcpListener = tcp({ host: "127.0.0.1", port: 0 });
    const { listener } = await chatListener({ closeTimeout: 30_000 }, {
      transport: tcpListener,
      shutdownTimeout: 10_000,
    });
    const a = await ChatClient.connect(listener);
    await a.join("lobby");
    const begun = performance.now();
    const stopped = listener.stop();
    assert.equal(await a.next(), "BYE server shutting down");
    assert.equal(await a.next(), null);
    await a.socket.close();
    await stopped;
    assert.ok(performance.now() - begun < 5000, "stop() waited for the client, not for a timeout");
  });

  test("idleTimeout closes a silent client with ERR idle timeout; a talking one stays", async () => {
    const { listener } = await chatListener({ idleTimeout: 100 });
    await using _ = listener;
    const [silent, talker] = await ChatClient.connectAll(listener, 2);
    const begun = performance.now();
    await silent.join("lobby");
    await talker.join("attic");
    // The talker speaks every 20 ms until the silent one is closed (bounded by the count).
    let closedAfter = 0;
    const silentDone = (async () => {
      assert.equal(await silent.next(), "ERR idle timeout");
      assert.equal(await silent.next(), null);
      closedAfter = performance.now() - begun;
    })();
    for (let i = 0; i < 100 && closedAfter === 0; i++) {
      await talker.send(`tick ${i}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await silentDone;
    assert.ok(closedAfter >= 90, `closed after ${closedAfter} ms`);
    await talker.expectNothingQueued("attic");
    for (const client of [silent, talker]) await client.socket.close();
  });

  test(
    "over tcp: 50 clients in 5 rooms, each message delivered once to each other member of its room only",
    async () => {
      const { listener, rooms } = await chatListener({}, { transport: tcp({ host: "127.0.0.1", port: 0 }) });
      await using _ = listener;
      const ROOMS = 5, PER_ROOM = 10, MESSAGES = 20;
      const members: { id: number; room: string; client: ChatClient }[] = [];
      for (let id = 0; id < ROOMS * PER_ROOM; id++) {
        const member = { id, room: `room${id % ROOMS}`, client: await ChatClient.connect(listener) };
        await member.client.join(member.room);
        members.push(member);
      }
      for (let r = 0; r < ROOMS; r++) assert.equal(rooms.count(`room${r}`), PER_ROOM);
      const expected = (PER_ROOM - 1) * MESSAGES;
      const received = members.map(async ({ client }) => {
        const counts = new Map<string, number>();
        for (let i = 0; i < expected; i++) {
          const line = await client.next();
          assert.ok(line !== null, "closed early");
          counts.set(line, (counts.get(line) ?? 0) + 1);
        }
        return counts;
      });
      await Promise.all(members.map(async ({ id, client }) => {
        for (let m = 0; m < MESSAGES; m++) await client.send(`from ${id} #${m}`);
      }));
      const all = await Promise.all(received);
      let deliveries = 0;
      for (const [index, counts] of all.entries()) {
        const me = members[index]!;
        for (const other of members) {
          for (let m = 0; m < MESSAGES; m++) {
            const times = counts.get(`from ${other.id} #${m}`) ?? 0;
            const want = other.room === me.room && other.id !== me.id ? 1 : 0;
            assert.equal(times, want, `client ${me.id} got "from ${other.id} #${m}" ${times} times`);
            deliveries += times;
          }
        }
        await me.client.expectNothingQueued(me.room);
      }
      assert.equal(deliveries, ROOMS * PER_ROOM * (PER_ROOM - 1) * MESSAGES);
      for (const { client } of members) await client.socket.close();
    },
    { timeout: 60_000 },
  );

  const ncat = spawnSync("ncat", ["--version"], { stdio: "ignore" });
  test("a real ncat client joins a room and exchanges lines with a Corral client", async () => {
    const { listener } = await chatListener({}, { transport: tcp({ host: "127.0.0.1", port: 0 }) });
    await using _ = listener;
    const child = spawn("ncat", ["127.0.0.1", String(listener.port)], { stdio: ["pipe", "pipe", "inherit"] });
    const exited = new Promise((resolve) => child.once("exit", resolve));
    try {
      const out = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
      const ncatLine = () => withTimeout(out.next().then((r) => (r.done ? null : String(r.value))), 10_000);
      child.stdin!.write("JOIN lobby\n");
      assert.equal(await ncatLine(), "OK joined lobby");
      const corral = await ChatClient.connect(listener);
      await corral.join("lobby");
      await corral.send("hello from corral");
      assert.equal(await ncatLine(), "hello from corral");
      child.stdin!.write("hello from ncat\n");
      assert.equal(await corral.next(), "hello from ncat");
      await corral.socket.close();
    } finally {
      if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, "SIGTERM");
      await exited;
    }
  }, { skip: ncat.status === 0 ? false : "ncat is not installed (Debian: apt-get install -y ncat)" });

  test("examples/chat.ts runs as a program: two clients chat, SIGTERM sends BYE", async () => {
    await using program = chatProgram();
    const value = await program.firstLine();
    const match = /^chat listening on 127\.0\.0\.1:(\d+)$/.exec(value);
    assert.ok(match, `unexpected first line: ${value}`);
    const port = Number(match[1]);
    const [a, b] = [
      new ChatClient(await tcp().connect({ host: "127.0.0.1", port })),
      new ChatClient(await tcp().connect({ host: "127.0.0.1", port })),
    ];
    await a.join("general");
    await b.join("general");
    await a.send("hello everyone");
    assert.equal(await b.next(), "hello everyone");
    process.kill(program.child.pid!, "SIGTERM");
    for (const client of [a, b]) {
      assert.equal(await client.next(), "BYE server shutting down");
      assert.equal(await client.next(), null);
      await client.socket.close();
    }
    assert.equal(await withTimeout(program.exited, 10_000), 0);
  }, { timeout: 60_000 });

  const openssl = spawnSync("openssl", ["version"], { stdio: "ignore" });
  test("examples/chat.ts --tls serves TLS with a certificate it makes for localhost", async () => {
    await using program = chatProgram(["--tls"]);
    const value = await program.firstLine();
    const match = /^chat listening on 127\.0\.0\.1:(\d+) over TLS \(self-signed certificate for localhost: (.+)\)$/
      .exec(value);
    assert.ok(match, `unexpected first line: ${value}`);
    const [port, ca] = [Number(match[1]), readFileSync(match[2]!, "utf8")];
    const connect = async () => new ChatClient(await tls().connect({ port, serverName: "localhost", ca }));
    const [a, b] = [await connect(), await connect()];
    assert.equal(a.socket.secure, true);
    await a.join("secret");
    await b.join("secret");
    await b.send("over tls");
    assert.equal(await a.next(), "over tls");
    process.kill(program.child.pid!, "SIGTERM");
    for (const client of [a, b]) {
      assert.equal(await client.next(), "BYE server shutting down");
      await client.socket.close();
    }
    assert.equal(await withTimeout(program.exited, 10_000), 0);
    assert.equal(existsSync(match[2]!), false, "the certificate is removed at exit");
  }, { timeout: 60_000, skip: openssl.status === 0 ? false : "the openssl command is not installed" });
});

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}
