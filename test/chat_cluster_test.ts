/**
 * examples/chat.ts on several nodes: two chat processes of the runtime
 * under test joined by a real `nats-server` or `redis-server` (one room,
 * members on both; each line reaches every other member once and never its
 * sender; leaving and closing end the node's broker subscription), then the
 * whole deployment: HAProxy balancing `ncat` clients round-robin over two
 * chat processes with `send-proxy-v2`, the processes joined by NATS.
 * Skipped, saying why, when a broker, haproxy or ncat is missing.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { memory, type PubSub } from "../mod.ts";
import { chat, chatRooms } from "../examples/chat_protocol.ts";
import { type BrokerKind, brokerMissing, startBroker } from "./_brokers.ts";
import { start } from "./_fixtures.ts";
import { ChatClient } from "./_chat_client.ts";
import { suite, test } from "./_harness.ts";
import { freePort, installed, startHaproxy } from "./_haproxy.ts";
import { runtimeCommand } from "./_runtime.ts";

/** How long any one wait may last. */
const WAIT = 10_000;

function withTimeout<T>(promise: Promise<T>, what: string, ms = WAIT): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

/** A child process's output, line by line: read in order with `next`, or searched as a whole with `seen`. */
class LineReader {
  readonly seen: string[] = [];
  readonly name: string;
  #read = 0;
  #ended = false;
  #wake: (() => void) | undefined;
  constructor(child: ChildProcess, name: string) {
    this.name = name;
    const input = createInterface({ input: child.stdout! });
    input.on("line", (line) => {
      this.seen.push(line);
      this.#wake?.();
    });
    input.once("close", () => {
      this.#ended = true;
      this.#wake?.();
    });
  }

  /** The next line not read yet, or null once the output ended (at most WAIT ms). */
  async next(): Promise<string | null> {
    if (this.#read === this.seen.length && !this.#ended) {
      const more = new Promise<void>((resolve) => (this.#wake = resolve));
      await withTimeout(more, `${this.name} output (seen ${JSON.stringify(this.seen)})`);
    }
    return this.#read < this.seen.length ? this.seen[this.#read++]! : null;
  }

  /** Reads lines until one matches `pattern`; returns its match. */
  async until(pattern: RegExp): Promise<RegExpMatchArray> {
    for (let line = await this.next(); line !== null; line = await this.next()) {
      const match = line.match(pattern);
      if (match) return match;
    }
    throw new Error(`${this.name} ended before printing ${pattern}: ${this.seen.join("\n")}`);
  }

  /** The first line printed so far matching `pattern`, read or not. */
  printed(pattern: RegExp): RegExpMatchArray | undefined {
    for (const line of this.seen) {
      const match = line.match(pattern);
      if (match) return match;
    }
    return undefined;
  }
}

/** examples/chat.ts on a free port, on this runtime, with `flags`; disposing kills it and waits. */
async function chatNode(name: string, flags: string[]) {
  const [command, args] = runtimeCommand("examples/chat.ts");
  const child = spawn(command, [...args, "--port", "0", ...flags], { stdio: ["ignore", "pipe", "inherit"] });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const output = new LineReader(child, name);
  const node = {
    output,
    port: 0,
    async [Symbol.asyncDispose]() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
  try {
    node.port = Number((await output.until(/^chat listening on 127\.0\.0\.1:(\d+)$/))[1]);
    await output.until(/^chat: rooms joined over /);
  } catch (error) {
    await node[Symbol.asyncDispose]();
    throw error;
  }
  return node;
}


/** Asks `count()` until it gives `want` (every 20 ms, at most WAIT ms): the broker applies UNSUB on its own time. */
async function eventually(count: () => Promise<number>, want: number, what: string): Promise<void> {
  let last = -1;
  for (const start = performance.now(); performance.now() - start < WAIT;) {
    last = await count();
    if (last === want) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.fail(`${what}: ${last} subscriptions, not ${want}, after ${WAIT} ms`);
}

/** The channel (Redis) or subject (NATS) of a room's topic, as the broker names it. */
function channel(kind: BrokerKind, room: string): string {
  return kind === "nats" ? `corral:${room.replaceAll(" ", "%20")}` : `corral:${room}`;
}

for (const kind of ["nats", "redis"] as const) {
  const skip = brokerMissing(kind);
  suite(`chat cluster on ${kind}`, () => {
    test("a line from a client of node A reaches every other member on A and B once, never its sender", async () => {
      await using broker = await startBroker(kind);
      await using a = await chatNode("node A", ["--cluster", broker.url]);
      await using b = await chatNode("node B", ["--cluster", broker.url]);
      const room = "my room";
      const [a1, a2] = [await ChatClient.connectTo(a.port), await ChatClient.connectTo(a.port)];
      const [b1, b2] = [await ChatClient.connectTo(b.port), await ChatClient.connectTo(b.port)];
      const everyone = [a1, a2, b1, b2];
      for (const client of everyone) await client.join(room);
      assert.equal(await broker.subscriptions(channel(kind, room)), 2, "one subscription per node, not per member");

      const says = async (sender: ChatClient, line: string) => {
        await sender.send(line);
        for (const client of everyone) if (client !== sender) assert.equal(await client.next(), line);
      };
      await says(a1, "hello from a");
      await says(b1, "hello from b");
      await says(a2, "again from a");
      // A duplicate of a line from A would come before A's next line (one publisher, in order), and
      // an echo would come before a re-JOIN's answer: each member's next lines are exactly these.
      await says(a1, "last from a");
      await says(b2, "last from b");
      for (const client of everyone) await client.join(room);
      for (const client of everyone) await client.socket.close();
    }, { skip, timeout: 60_000 });

    test("leaving the room and closing end a node's subscription once its last member goes", async () => {
      await using broker = await startBroker(kind);
      await using a = await chatNode("node A", ["--cluster", broker.url]);
      await using b = await chatNode("node B", ["--cluster", broker.url]);
      const lobby = channel(kind, "lobby"), attic = channel(kind, "attic");
      const a1 = await ChatClient.connectTo(a.port);
      const [b1, b2] = [await ChatClient.connectTo(b.port), await ChatClient.connectTo(b.port)];
      for (const client of [a1, b1, b2]) await client.join("lobby");
      assert.equal(await broker.subscriptions(lobby), 2);

      await b1.join("attic"); // b2 is still in the lobby on node B
      assert.equal(await broker.subscriptions(attic), 1);
      assert.equal(await broker.subscriptions(lobby), 2);
      await a1.send("to the lobby");
      assert.equal(await b2.next(), "to the lobby");

      await b2.socket.close(); // node B's last lobby member: its subscription goes
      await eventually(() => broker.subscriptions(lobby), 1, "after the last member on B closed");
      await b1.join("lobby"); // back: B subscribes again
      await eventually(() => broker.subscriptions(lobby), 2, "after b1 came back");
      await eventually(() => broker.subscriptions(attic), 0, "after b1 left attic for the lobby");
      await a1.send("welcome back");
      assert.equal(await b1.next(), "welcome back");

      await a1.socket.close();
      await b1.send("JOIN attic");
      assert.equal(await b1.next(), "OK joined attic");
      await eventually(() => broker.subscriptions(lobby), 0, "after every member left");
      await b1.socket.close();
    }, { skip, timeout: 60_000 });

    test(
      "broker killed and restarted: each node's room keeps working, the outage is logged, lines cross again",
      async () => {
        await using broker = await startBroker(kind);
        await using a = await chatNode("node A", ["--cluster", broker.url]);
        await using b = await chatNode("node B", ["--cluster", broker.url]);
        const [a1, a2] = [await ChatClient.connectTo(a.port), await ChatClient.connectTo(a.port)];
        const b1 = await ChatClient.connectTo(b.port);
        for (const client of [a1, a2, b1]) await client.join("lobby");
        await a1.send("before");
        assert.equal(await a2.next(), "before");
        assert.equal(await b1.next(), "before");

        await broker.kill();
        // Local delivery never stops; node A soon finds the broker gone and logs that it drops copies.
        const during = /^chat: broker unreachable, lines for other nodes are dropped/;
        for (let i = 0; i < 500 && !a.output.printed(during); i++) {
          await a1.send(`during ${i}`);
          assert.equal(await a2.next(), `during ${i}`);
        }
        assert.ok(a.output.printed(during), `node A did not log the outage: ${a.output.seen.join("\n")}`);

        await broker.restart();
        // Both clients reconnect and subscribe again by themselves.
        await eventually(() => broker.subscriptions(channel(kind, "lobby")), 2, "after the broker came back");
        // B reads in the background. A line sent just before node A saw the broker go may still come
        // (a client can hold it and send it on reconnecting), so "back" is known when an "after" line crosses.
        const got: string[] = [];
        const reading = (async () => {
          for (
            let line = await b1.next();
            line !== "done" && line !== null && got.length < 1100;
            line = await b1.next()
          ) {
            got.push(line);
          }
        })();
        reading.catch(() => {}); // awaited below; a failure before that must not go unhandled
        const crossed = () => got.some((line) => line.startsWith("after "));
        let last = -1;
        for (let i = 0; i < 2000 && !crossed(); i++) {
          await a1.send(`after ${i}`);
          assert.equal(await a2.next(), `after ${i}`);
          last = i;
        }
        assert.ok(crossed(), `no line crossed to node B after the restart: ${got}`);
        await a1.send("done");
        assert.equal(await a2.next(), "done");
        await reading;
        // Each line at most once; from the first that crossed, every later one, in order.
        assert.equal(new Set(got).size, got.length, `no line twice: ${got}`);
        const after = got.filter((line) => line.startsWith("after ")).map((line) => Number(line.slice(6)));
        after.forEach((n, i) => assert.equal(n, after[0]! + i, `in order, none missing: ${after}`));
        assert.equal(after.at(-1), last, `B got every line after the first that crossed: ${got}`);
        const back = /^chat: broker back, lines reach other nodes again \((\d+) dropped in all\)$/;
        const logged = await a.output.until(back);
        assert.ok(Number(logged[1]) >= 1, "copies dropped during the outage are counted");
        for (const client of [a1, a2, b1]) await client.socket.close();
      },
      { skip, timeout: 60_000 },
    );
  });
}

const deploymentMissing = brokerMissing("nats") ??
  (!installed("haproxy", ["-v"])
    ? "haproxy is not installed (Debian package haproxy)"
    : !installed("ncat", ["--version"])
    ? "ncat is not installed (Debian package ncat)"
    : undefined);

/** An `ncat` client from a source port of our choosing, so its real address is known. */
function ncatClient(port: number, sourcePort: number) {
  const child = spawn("ncat", ["-p", String(sourcePort), "127.0.0.1", String(port)], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const output = new LineReader(child, `ncat from port ${sourcePort}`);
  return {
    sourcePort,
    output,
    send: (line: string) => void child.stdin!.write(`${line}\n`),
    async [Symbol.asyncDispose]() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}

suite("chat cluster behind HAProxy", () => {
  test(
    "ncat clients round-robin over two nodes with send-proxy-v2, joined by NATS: every member sees every line once",
    async () => {
      await using broker = await startBroker("nats");
      const flags = ["--cluster", broker.url, "--proxy-header"];
      await using a = await chatNode("node A", flags);
      await using b = await chatNode("node B", flags);
      const front = await freePort("127.0.0.1");
      await using _haproxy = await startHaproxy([{
        bind: `127.0.0.1:${front}`,
        backend: `  balance roundrobin\n  server b 127.0.0.1:${b.port} send-proxy-v2\n`,
        server: `127.0.0.1:${a.port} send-proxy-v2`,
      }]);
      const room = "lobby";
      const clients: ReturnType<typeof ncatClient>[] = [];
      await using _clients = {
        [Symbol.asyncDispose]: () => Promise.all(clients.map((client) => client[Symbol.asyncDispose]())).then(() => {}),
      };
      for (let i = 0; i < 4; i++) {
        const client = ncatClient(front, await freePort("127.0.0.1"));
        clients.push(client);
        client.send(`JOIN ${room}`);
        assert.equal(await client.output.next(), `OK joined ${room}`);
      }
      // Each node logs the clients it got, by their own address: round-robin gives each node two.
      const joined = (node: typeof a) =>
        Promise.all(
          [0, 1].map(async () =>
            Number((await node.output.until(/^chat: client 127\.0\.0\.1:(\d+) joined lobby$/))[1])
          ),
        );
      const [onA, onB] = [await joined(a), await joined(b)];
      assert.deepEqual(
        [...onA, ...onB].sort(),
        clients.map((client) => client.sourcePort).sort(),
      );
      assert.equal(await broker.subscriptions(`corral:${room}`), 2);

      for (const [i, sender] of clients.entries()) {
        sender.send(`line ${i}`);
        for (const client of clients) if (client !== sender) assert.equal(await client.output.next(), `line ${i}`);
      }
      // Nothing else is queued for anyone: no duplicate, no echo comes before the answer to a new JOIN.
      for (const client of clients) {
        client.send(`JOIN ${room}`);
        assert.equal(await client.output.next(), `OK joined ${room}`);
      }
    },
    { skip: deploymentMissing, timeout: 60_000 },
  );
});

suite("chat cluster, JOIN", () => {
  test("a room the broker refuses to subscribe to is answered ERR cannot join ROOM now; other rooms still work", async () => {
    const refusing: PubSub = {
      connected: true,
      publish() {},
      subscribe: (topic) =>
        topic === "corral:vault" ? Promise.reject(new Error("permissions violation")) : Promise.resolve(() => {}),
      close: () => Promise.resolve(),
    };
    const rooms = chatRooms(refusing);
    await using listener = await start({ transport: memory({ name: "chat-refused" }), protocol: chat({ rooms }) });
    const client = await ChatClient.connectTo("chat-refused");
    await client.send("JOIN vault");
    assert.equal(await client.next(), "ERR cannot join vault now");
    assert.equal(rooms.count("vault"), 0);
    assert.match(String(rooms.clusterStatus!.lastError), /permissions violation/);
    await client.send("a line before any room");
    assert.equal(await client.next(), "ERR join a room first");
    await client.join("lobby");
    await client.socket.close();
    await listener.waitForConnections("==", 0);
  });
});
