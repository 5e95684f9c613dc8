/** A line-based client of the chat example, for its tests. */
import assert from "node:assert/strict";
import { type Listener, memory, type Socket, tcp } from "../mod.ts";
import { lines } from "../src/lines.ts";

/** One chat client: a socket and a reader of its lines (each read bounded in time). */
export class ChatClient {
  readonly socket: Socket;
  #lines: AsyncIterator<string>;

  constructor(socket: Socket) {
    this.socket = socket;
    this.#lines = lines(socket, { timeout: 10_000 })[Symbol.asyncIterator]();
  }

  static async connect(listener: Listener<unknown>, window?: number): Promise<ChatClient> {
    const address = listener.address;
    if (address !== undefined && "name" in address) {
      const name = address.name;
      return new ChatClient(await memory().connect(window === undefined ? { name } : { name, window }));
    }
    return new ChatClient(await tcp().connect({ host: "127.0.0.1", port: listener.port! }));
  }

  /** A client of the chat process on 127.0.0.1:`port`, or of the memory listener named `port`. */
  static async connectTo(port: number | string): Promise<ChatClient> {
    if (typeof port === "string") return new ChatClient(await memory().connect({ name: port }));
    return new ChatClient(await tcp().connect({ host: "127.0.0.1", port }));
  }

  /** `count` clients, each connected once the one before it is, so the server accepts them in this order. */
  static connectAll(listener: Listener<unknown>, count: 2): Promise<[ChatClient, ChatClient]>;
  static connectAll(listener: Listener<unknown>, count: 3): Promise<[ChatClient, ChatClient, ChatClient]>;
  static async connectAll(listener: Listener<unknown>, count: number): Promise<ChatClient[]> {
    const clients: ChatClient[] = [];
    for (let i = 0; i < count; i++) clients.push(await ChatClient.connect(listener));
    return clients;
  }

  send(line: string): Promise<void> {
    return this.socket.send(`${line}\n`);
  }

  /** The next line, or null at end of stream. */
  async next(): Promise<string | null> {
    const { value, done } = await this.#lines.next();
    return done ? null : value;
  }

  async join(room: string): Promise<void> {
    await this.send(`JOIN ${room}`);
    assert.equal(await this.next(), `OK joined ${room}`);
  }

  /**
   * Proves nothing else was queued for this client: the server answers a
   * re-JOIN after every line already queued, so it must be the next line.
   */
  async expectNothingQueued(room: string): Promise<void> {
    await this.join(room);
  }
}
