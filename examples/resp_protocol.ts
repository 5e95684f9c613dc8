/**
 * A small RESP2 (Redis protocol) server: PING, ECHO, SET, GET, INCR, DEL,
 * CONFIG GET (answered empty, for redis-benchmark) and QUIT, pipelined.
 *
 * The parser is plain functions over bytes, so the benchmark's raw-socket
 * twins (bench/servers/raw_resp_*.ts) run the very same code: `execute()`
 * answers every complete command in a batch and says how many bytes it used.
 * The protocol around it uses Corral's reads for framing parsers:
 * `readAvailable()` takes the whole batch, `unshift()` puts an incomplete
 * command back, and `sendv()` writes the batch's replies in one write.
 */
import { handler, type Protocol } from "../mod.ts";

const encoder = new TextEncoder();
const CR = 13;
const LF = 10;
/** Unparsed bytes a client may leave pending; more closes the connection (Redis allows far more). */
const MAX_PENDING = 8 * 1024 * 1024;

const OK = encoder.encode("+OK\r\n");
const PONG = encoder.encode("+PONG\r\n");
const NIL = encoder.encode("$-1\r\n");
const CRLF = encoder.encode("\r\n");
const EMPTY_ARRAY = encoder.encode("*0\r\n");
const EMPTY = new Uint8Array(0);
const NOT_INTEGER = encoder.encode("-ERR value is not an integer or out of range\r\n");

/** Where keys live: one per server, shared by its connections. */
export class RespStore {
  readonly values = new Map<string, Uint8Array>();
}

/** What `execute` tells the loop beyond the bytes it used. */
export interface Executed {
  /** Bytes of the batch that held complete commands (the rest is an incomplete command). */
  used: number;
  /** The client sent QUIT or broke the protocol: send the replies, then close. */
  close: boolean;
}

/** Arguments of the command being run: views of the batch, reused from command to command. */
const args: Uint8Array[] = [];

/**
 * Runs every complete command in `batch`, pushing each reply (one or more
 * buffers; constants are shared, so send them with a copying write such as
 * `sendv`) onto `replies`.
 */
export function execute(batch: Uint8Array, store: RespStore, replies: Uint8Array[]): Executed {
  let pos = 0;
  while (pos < batch.length) {
    const next = batch[pos] === 42 /* * */ ? parseArray(batch, pos) : parseInline(batch, pos);
    if (next === INCOMPLETE) break;
    if (next === BROKEN) {
      replies.push(encoder.encode("-ERR Protocol error: invalid multibulk or bulk length\r\n"));
      return { used: batch.length, close: true };
    }
    pos = next;
    if (argc > 0 && run(store, replies)) return { used: pos, close: true };
  }
  return { used: pos, close: false };
}

const INCOMPLETE = -1;
const BROKEN = -2;
let argc = 0;

/** `*<n>\r\n` then n times `$<len>\r\n<bytes>\r\n`: where the command ends, or INCOMPLETE / BROKEN. */
function parseArray(batch: Uint8Array, start: number): number {
  let [count, pos] = parseNumber(batch, start + 1);
  if (pos < 0) return pos;
  if (count > 1024 * 1024) return BROKEN;
  argc = 0;
  for (; count > 0; count--) {
    if (pos >= batch.length) return INCOMPLETE;
    if (batch[pos] !== 36 /* $ */) return BROKEN;
    const [length, at] = parseNumber(batch, pos + 1);
    if (at < 0) return at;
    if (length < 0 || length > MAX_PENDING) return BROKEN;
    if (at + length + 2 > batch.length) return INCOMPLETE;
    args[argc++] = batch.subarray(at, at + length);
    pos = at + length + 2;
  }
  return pos;
}

/** A decimal number ended by CRLF at `pos`: [value, position after the CRLF]. */
function parseNumber(batch: Uint8Array, pos: number): [number, number] {
  let value = 0;
  let negative = false;
  if (batch[pos] === 45 /* - */) {
    negative = true;
    pos++;
  }
  for (; pos < batch.length; pos++) {
    const byte = batch[pos]!;
    if (byte === CR) {
      if (pos + 1 >= batch.length) return [0, INCOMPLETE];
      return batch[pos + 1] === LF ? [negative ? -value : value, pos + 2] : [0, BROKEN];
    }
    if (byte < 48 || byte > 57 || value > 1e15) return [0, BROKEN];
    value = value * 10 + byte - 48;
  }
  return [0, INCOMPLETE];
}

/** A telnet-style line (`PING\r\n`): words split on spaces. */
function parseInline(batch: Uint8Array, start: number): number {
  const end = batch.indexOf(LF, start);
  if (end < 0) return batch.length - start > 64 * 1024 ? BROKEN : INCOMPLETE;
  const stop = end > start && batch[end - 1] === CR ? end - 1 : end;
  argc = 0;
  for (let pos = start; pos < stop;) {
    while (pos < stop && batch[pos] === 32) pos++;
    const wordStart = pos;
    while (pos < stop && batch[pos] !== 32) pos++;
    if (pos > wordStart) args[argc++] = batch.subarray(wordStart, pos);
  }
  return end + 1;
}

/** Bytes as a string, one char per byte (keys and command names). */
function latin1(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += String.fromCharCode(bytes[i]!);
  return out;
}

function bulk(replies: Uint8Array[], value: Uint8Array): void {
  replies.push(encoder.encode(`$${value.length}\r\n`), value, CRLF);
}

function error(replies: Uint8Array[], message: string): void {
  replies.push(encoder.encode(`-${message}\r\n`));
}

function wrongArity(replies: Uint8Array[], name: string): void {
  error(replies, `ERR wrong number of arguments for '${name}' command`);
}

/** Runs `args[0..argc)`; true when the connection should close after the replies. */
function run(store: RespStore, replies: Uint8Array[]): boolean {
  const name = latin1(args[0]!).toLowerCase();
  switch (name) {
    case "ping":
      if (argc === 1) replies.push(PONG);
      else if (argc === 2) bulk(replies, args[1]!);
      else wrongArity(replies, name);
      break;
    case "echo":
      if (argc === 2) bulk(replies, args[1]!);
      else wrongArity(replies, name);
      break;
    case "set":
      // The value is copied: the batch it is a view of is not kept alive by the store. Not `.slice()`:
      // on Node.js the batch is a Buffer, whose slice() is a view of the same memory.
      if (argc === 3) {
        store.values.set(latin1(args[1]!), new Uint8Array(args[2]!));
        replies.push(OK);
      } else if (argc > 3) error(replies, "ERR syntax error");
      else wrongArity(replies, name);
      break;
    case "get": {
      if (argc !== 2) {
        wrongArity(replies, name);
        break;
      }
      const value = store.values.get(latin1(args[1]!));
      if (value === undefined) replies.push(NIL);
      else bulk(replies, value);
      break;
    }
    case "incr": {
      if (argc !== 2) {
        wrongArity(replies, name);
        break;
      }
      const key = latin1(args[1]!);
      const old = store.values.get(key);
      const text = old === undefined ? "0" : latin1(old);
      const number = Number(text);
      if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(number + 1)) {
        replies.push(NOT_INTEGER);
        break;
      }
      store.values.set(key, encoder.encode(String(number + 1)));
      replies.push(encoder.encode(`:${number + 1}\r\n`));
      break;
    }
    case "del": {
      if (argc < 2) {
        wrongArity(replies, name);
        break;
      }
      let deleted = 0;
      for (let i = 1; i < argc; i++) if (store.values.delete(latin1(args[i]!))) deleted++;
      replies.push(encoder.encode(`:${deleted}\r\n`));
      break;
    }
    case "config":
      // CONFIG GET name: the name with an empty value (redis-benchmark asks for two at start).
      if (argc === 3 && latin1(args[1]!).toLowerCase() === "get") {
        replies.push(encoder.encode("*2\r\n"));
        bulk(replies, args[2]!);
        bulk(replies, EMPTY);
      } else replies.push(EMPTY_ARRAY);
      break;
    case "quit":
      replies.push(OK);
      return true;
    default: {
      const shown = [];
      for (let i = 1; i < argc && i < 4; i++) shown.push(`'${latin1(args[i]!)}'`);
      error(replies, `ERR unknown command '${latin1(args[0]!)}', with args beginning with: ${shown.join(" ")}`);
    }
  }
  return false;
}

/**
 * The RESP protocol over Corral's pull API, keeping its keys in `store`:
 * each batch is read whole, answered with one `sendv`, and an incomplete
 * command waits in the socket (`unshift`) for the bytes that finish it.
 */
export function respProtocol(store: RespStore = new RespStore()): Protocol {
  return async (conn) => {
    const socket = await conn.handshake();
    const replies: Uint8Array[] = [];
    let need = 1;
    for (let batch; (batch = await socket.readAvailable(need)) !== null;) {
      const { used, close } = execute(batch, store, replies);
      if (replies.length > 0) {
        const sent = socket.sendv(replies); // copies them: the array and the constants are reused
        replies.length = 0;
        await sent;
      }
      if (close) return;
      const left = batch.length - used;
      if (left > MAX_PENDING) return;
      if (left > 0) socket.unshift(batch.subarray(used));
      need = left + 1;
    }
  };
}

/** What the `handler()` shape keeps per connection. */
interface RespState {
  /** An incomplete command's bytes, finished by the next chunk (push mode has no `unshift`). */
  pending: Uint8Array | undefined;
  replies: Uint8Array[];
}

/**
 * The same server in the `handler()` shape: `data` is called per chunk with
 * no promise, keeps an incomplete command itself, and leaves `sendv()`'s
 * promise alone (a send over the high-water mark pauses reading by itself).
 */
export function respHandler(store: RespStore = new RespStore()): Protocol {
  return handler<RespState>({
    connection: () => ({ pending: undefined, replies: [] }),
    data(chunk, socket, state) {
      const pending = state.pending;
      let batch = chunk;
      if (pending !== undefined) {
        batch = new Uint8Array(pending.length + chunk.length);
        batch.set(pending);
        batch.set(chunk, pending.length);
      }
      const { used, close } = execute(batch, store, state.replies);
      if (state.replies.length > 0) {
        void socket.sendv(state.replies);
        state.replies.length = 0;
      }
      if (close || batch.length - used > MAX_PENDING) return void socket.close();
      state.pending = used < batch.length ? batch.subarray(used) : undefined;
    },
  });
}
