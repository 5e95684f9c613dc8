/**
 * A line-based chat protocol, on any transport:
 *
 * - `JOIN room` answers `OK joined room` and leaves the previous room; with
 *   a cluster registry (see {@linkcode chatRooms}) the answer waits until the
 *   broker holds this node's subscription to the room, so every line sent to
 *   it after `OK` reaches this member, whichever node the sender is on (while
 *   the broker is unreachable that wait lasts until the client reconnects;
 *   a subscription the broker refuses is answered `ERR cannot join room now`);
 * - any other line is sent to every other member of the room (never echoed
 *   back); before the first JOIN it is answered `ERR join a room first`;
 * - lines end with LF or CRLF and are trimmed; blank lines are ignored; a
 *   line longer than `maxLineLength` bytes is answered `ERR line too long`
 *   and the connection is closed, so one client cannot grow server memory;
 * - a client silent for `idleTimeout` ms gets `ERR idle timeout` and is closed
 *   (the listener's idle clock: `conn.setIdleTimeout`, which aborts
 *   `conn.signal` with a `TimeoutError`);
 * - when the listener stops, every client gets `BYE server shutting down`
 *   after the messages already queued for it, then its socket closes.
 *
 * Back-pressure policy: each member has a bounded outbox. A broadcast never
 * waits for a slow reader; it appends the line to each member's outbox,
 * which is written to the socket as fast as the socket accepts it. When the
 * bytes waiting in a member's outbox (those the socket has not taken yet)
 * would pass `outboxLimit`, that member is too far behind: its outbox is
 * dropped, it gets `ERR too slow` (queued behind what its socket already
 * holds) and it is disconnected. Everyone else carries on. Server memory per
 * member is thus bounded by `outboxLimit` plus the socket's own buffer,
 * whatever the other members send. Lines queued in the same event-loop turn
 * go out in one write, so a burst costs one write per member, not one per line.
 *
 * Closing after a farewell (`ERR ...` or `BYE ...`) is a lingering close:
 * the server sends the line and end of stream, discards what the client
 * still sends, and closes when the client closes its end or `closeTimeout`
 * passes, whichever is first. Closing at once while the client's bytes are
 * unread would make TCP reset the connection, which can lose the farewell.
 *
 * @module
 */
import type { Connection, Logger, Protocol, PubSub, Socket } from "../mod.ts";
import { ClosedError, lines, LineTooLongError, Registry, TimeoutError } from "../mod.ts";

/** What the room registry holds for each member: where to deliver lines. */
export interface ChatMember {
  /** Queues one LF-ended line for this member (never blocks). */
  deliver(line: Uint8Array): void;
}

/**
 * Makes the rooms registry of {@linkcode chat}: duplicate keys, and each
 * broadcast line pushed into the member's outbox. With `pubsub`, a room
 * spans every chat process on the same broker: a line reaches the room's
 * members on all of them, once.
 *
 * @param pubsub The broker link (`natsPubSub(nc)`, `redisPubSub(...)`); none for one process.
 * @param logger Where a failing delivery is reported. Default: `console`.
 * @returns The registry to pass as `chat({ rooms })`.
 *
 * @example One process
 * ```ts
 * import assert from "node:assert/strict";
 * import { chat, chatRooms } from "./chat_protocol.ts";
 * const rooms = chatRooms();
 * assert(typeof chat({ rooms }) === "function" && rooms.clusterStatus === undefined);
 * ```
 */
export function chatRooms(pubsub?: PubSub, logger?: Pick<Logger, "error">): Registry<ChatMember> {
  return new Registry<ChatMember>({
    keys: "duplicate",
    deliver: (entry, data) => entry.value.deliver(data),
    ...(pubsub === undefined ? {} : { pubsub }),
    ...(logger === undefined ? {} : { logger }),
  });
}

/** Options of {@linkcode chat}. */
export interface ChatOptions {
  /** Rooms by name, made by {@linkcode chatRooms}. Default: `chatRooms()`, local to this protocol. */
  rooms?: Registry<ChatMember>;
  /** Called once a client joined a room (after `OK joined`), e.g. to log who it is. */
  onJoin?: (conn: Connection, room: string) => void;
  /** Most bytes in one line, not counting its ending. Default 4096. */
  maxLineLength?: number;
  /** Ms a client may stay silent before it is closed. Default: no limit. */
  idleTimeout?: number;
  /** Bytes a member's outbox may hold before it is disconnected as too slow. Default 65536. */
  outboxLimit?: number;
  /**
   * Ms a closing connection gets to flush its last lines and, after a
   * farewell, for the client to close its end; then the socket is dropped.
   * Default 2000.
   */
  closeTimeout?: number;
}

const encoder = new TextEncoder();
const NOT_JOINED = encoder.encode("ERR join a room first\n");
const BYE = "BYE server shutting down\n";
const IDLE = "ERR idle timeout\n";

/**
 * Makes the chat protocol. Pass a shared `rooms` registry to look inside
 * (tests do); every connection of one protocol value shares its rooms.
 */
export function chat(options: ChatOptions = {}): Protocol {
  const rooms = options.rooms ?? chatRooms();
  const onJoin = options.onJoin;
  if (rooms.unique) throw new TypeError('chat() option rooms must be a Registry with keys: "duplicate"');
  const maxLength = positive("maxLineLength", options.maxLineLength, 4096);
  const idleTimeout = positive("idleTimeout", options.idleTimeout, Infinity);
  const outboxLimit = positive("outboxLimit", options.outboxLimit, 64 * 1024);
  const closeTimeout = positive("closeTimeout", options.closeTimeout, 2000);

  return async (conn: Connection) => {
    const socket = await conn.handshake();
    if (idleTimeout !== Infinity) conn.setIdleTimeout(idleTimeout);
    const member = new Member(socket, outboxLimit);
    const forget = kickOnAbort(conn.signal, member);
    let room: string | undefined;
    try {
      const reader = lines(socket, { maxLength });
      for await (const raw of reader) {
        if (member.kicked) break;
        const line = raw.trim();
        if (line === "") continue;
        if (line.startsWith("JOIN ")) {
          const next = line.slice(5).trim();
          if (room !== undefined && room !== next) rooms.unregister(room, conn);
          rooms.register(next, conn, member);
          room = next;
          // Lines other nodes send to the room arrive only once the broker has this node's subscription.
          if (!(await joined(rooms, room))) {
            rooms.unregister(room, conn);
            member.deliver(encoder.encode(`ERR cannot join ${room} now\n`));
            room = undefined;
            continue;
          }
          member.deliver(encoder.encode(`OK joined ${room}\n`));
          onJoin?.(conn, room);
        } else if (room === undefined) {
          member.deliver(NOT_JOINED);
        } else {
          rooms.broadcast(room, encoder.encode(`${line}\n`), { from: conn });
        }
      }
    } catch (error) {
      if (error instanceof LineTooLongError) member.kick("ERR line too long\n");
      else if (!(error instanceof ClosedError)) throw error; // a reset needs no answer
    } finally {
      forget();
      // Leave at once: finishing may take up to closeTimeout. (Were this skipped, or the
      // protocol crashed, the registry would still drop the entry when the connection ends.)
      if (room !== undefined) rooms.unregister(room, conn);
      await member.finish(closeTimeout);
    }
  };
}

/** Waits for `room`'s broker subscription: false when the broker refused it (why: `rooms.clusterStatus.lastError`). */
async function joined(rooms: Registry<ChatMember>, room: string): Promise<boolean> {
  try {
    await rooms.ready(room);
    return true;
  } catch {
    return false;
  }
}

/**
 * Kicks `member` when the connection's signal aborts: with BYE when the
 * listener stops, with ERR idle timeout when the client was silent for too
 * long. Returns the function that forgets it.
 */
function kickOnAbort(signal: AbortSignal, member: Member): () => void {
  const bye = () => member.kick(signal.reason instanceof TimeoutError ? IDLE : BYE);
  if (signal.aborted) {
    bye();
    return () => {};
  }
  signal.addEventListener("abort", bye, { once: true });
  return () => signal.removeEventListener("abort", bye);
}

/** One connection's outbox: lines queued for it and the loop writing them. */
class Member implements ChatMember {
  #socket: Socket;
  #limit: number;
  #queue: Uint8Array[] = [];
  /** Bytes queued or handed to `send()` whose promise has not resolved yet. */
  #behind = 0;
  #writing: Promise<void> | undefined;
  #open = true;
  #farewell: string | undefined;

  constructor(socket: Socket, limit: number) {
    this.#socket = socket;
    this.#limit = limit;
  }

  /** Whether the connection is being closed (a farewell is chosen). */
  get kicked(): boolean {
    return this.#farewell !== undefined;
  }

  deliver(line: Uint8Array): void {
    if (!this.#open) return;
    if (this.#behind + line.length > this.#limit) {
      this.#open = false;
      this.#queue = [];
      this.kick("ERR too slow\n");
      return;
    }
    this.#queue.push(line);
    this.#behind += line.length;
    this.#writing ??= this.#write();
  }

  /** Ends the connection with `farewell` (the first reason wins): stops reading, so the read loop ends. */
  kick(farewell: string): void {
    if (this.#farewell !== undefined) return;
    this.#farewell = farewell;
    // Wakes the pending read with end of stream; the protocol loop then finishes.
    void this.#socket.shutdown("read");
  }

  /**
   * Stops taking lines, flushes the outbox, then the farewell, and closes;
   * whatever cannot flush within `timeout` ms is dropped with the socket.
   */
  async finish(timeout: number): Promise<void> {
    this.#open = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeout)));
    const socket = this.#socket;
    try {
      // Lines already handed to send() are ahead of the farewell anyway; wait only for queued ones.
      if (this.#queue.length > 0 && this.#writing !== undefined) await Promise.race([this.#writing, expired]);
      this.#queue = [];
      if (this.#farewell !== undefined) {
        // A lingering close: send the farewell and end of stream, keep discarding what the client
        // still sends (kick() shut the read side), and close once it closes too. Closing while its
        // bytes are unread would make TCP reset the connection and could lose the farewell.
        socket.send(this.#farewell).catch(() => {});
        await socket.shutdown("write");
        await Promise.race([socket.closed, expired]);
      }
      await Promise.race([socket.close(), expired]);
    } finally {
      clearTimeout(timer);
      socket.destroy();
    }
  }

  async #write(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const queue = this.#queue;
        this.#queue = [];
        const chunk = queue.length === 1 ? queue[0]! : concat(queue);
        await this.#socket.send(chunk);
        this.#behind -= chunk.length;
        // The first line went out at once; lines arriving in the rest of this turn gather
        // into one write. A read of 50 lines fanned out to 1,000 members is then about
        // 2,000 writes instead of 50,000.
        if (this.#queue.length === 0) await nextTurn();
      }
    } catch {
      // The socket failed or closed: the read loop ends on its own, nothing more to write.
      this.#open = false;
      this.#queue = [];
    } finally {
      this.#writing = undefined;
    }
  }
}

let turn: Promise<void> | undefined;

/** Resolves after pending I/O callbacks had their turn; one timer shared by every waiting member. */
function nextTurn(): Promise<void> {
  turn ??= new Promise((resolve) =>
    setImmediate(() => {
      turn = undefined;
      resolve();
    })
  );
  return turn;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(Number.isInteger(value) && value > 0) && !(value === Infinity && fallback === Infinity)) {
    throw new RangeError(`chat() option ${name} must be an integer > 0, got ${value}`);
  }
  return value;
}

function concat(chunks: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
