/**
 * Newline-delimited framing (Erlang's `packet: line`): a socket's bytes as
 * an async iterable of text lines, with a bound on line length so one peer
 * cannot make the reader buffer without limit.
 *
 * @module
 */
import { CorralError } from "./errors.ts";
import { integerOption, rejectUnknownOptions } from "./options.ts";
import type { Socket } from "./transport.ts";

const LF = 10;
const CR = 13;
const DEFAULT_MAX_LENGTH = 4096;

/** Options of {@linkcode lines}. */
export interface LinesOptions {
  /** Most bytes in one line, not counting its LF or CRLF ending. Default 4096, from 1 to 2^30. */
  maxLength?: number;
  /** Ms to wait for each read before failing with `TimeoutError` (an idle limit). Default: no limit. */
  timeout?: number;
}

/**
 * A line was longer than {@linkcode LinesOptions.maxLength}: code
 * `"ELINETOOLONG"`. It is thrown as soon as the limit is passed, without
 * waiting for the line's end, so at most `maxLength` bytes are ever held.
 *
 * @example Answering an oversized line
 * ```ts
 * import assert from "node:assert/strict";
 * import { LineTooLongError } from "./lines.ts";
 * const err = new LineTooLongError(4096);
 * assert(err.code === "ELINETOOLONG" && err.maxLength === 4096);
 * ```
 */
export class LineTooLongError extends CorralError {
  /** The limit that was passed. */
  readonly maxLength: number;

  /**
   * Names the limit that was passed.
   *
   * @param maxLength The limit, in bytes.
   *
   * @example The message names the limit
   * ```ts
   * import assert from "node:assert/strict";
   * import { LineTooLongError } from "./lines.ts";
   * assert(new LineTooLongError(80).message === "line longer than 80 bytes");
   * ```
   */
  constructor(maxLength: number) {
    super("ELINETOOLONG", `line longer than ${maxLength} bytes`);
    this.maxLength = maxLength;
  }
}

/**
 * Reads `socket` line by line. Lines end with LF or CRLF; each is yielded
 * as UTF-8 text without its ending (invalid bytes become U+FFFD). At end of
 * stream a last line without an ending is yielded too, if not empty.
 *
 * Fails with {@linkcode LineTooLongError} when a line passes `maxLength`,
 * with `TimeoutError` when a read waits longer than `timeout`, and with the
 * socket's `ClosedError` on a reset. The reader owns the socket's reads
 * while it runs; leaving the loop early drops bytes read past the last line.
 *
 * @param socket Where to read from: a `Socket`, or anything with its `recv`.
 * @param options `maxLength` (default 4096) and `timeout` (default none).
 * @returns An async generator of the lines, done at end of stream.
 * @throws {TypeError} When `socket` has no `recv`, or an option is unknown or not a number (thrown at once).
 * @throws {RangeError} When `maxLength` or `timeout` is out of range (thrown at once).
 * @throws {LineTooLongError} From the iteration, when a line passes `maxLength`.
 * @throws {TimeoutError} From the iteration, when a read waits longer than `timeout` ms.
 * @throws {ClosedError} From the iteration, when the socket is reset.
 *
 * @example Reading a line-based request
 * ```ts
 * import assert from "node:assert/strict";
 * import { listen, memory } from "../mod.ts";
 * import { lines } from "./lines.ts";
 * const listener = await listen({
 *   transport: memory({ name: "doc-lines" }),
 *   protocol: async (conn) => {
 *     const socket = await conn.handshake();
 *     for await (const line of lines(socket, { maxLength: 80 })) await socket.send(`${line.length}\n`);
 *   },
 * });
 * const client = await memory().connect({ name: "doc-lines" });
 * await client.send("hello\r\nworld!\n");
 * const replies = lines(client)[Symbol.asyncIterator]();
 * assert((await replies.next()).value === "5");
 * assert((await replies.next()).value === "6");
 * await client.close();
 * await listener.stop();
 * ```
 */
export function lines(socket: Pick<Socket, "recv">, options: LinesOptions = {}): AsyncGenerator<string, void> {
  if (socket === null || typeof socket !== "object" || typeof socket.recv !== "function") {
    throw new TypeError("lines(socket, options): socket must be a Socket");
  }
  rejectUnknownOptions("lines()", options, ["maxLength", "timeout"]);
  const maxLength = integerOption("lines() option maxLength", options.maxLength, 1, 2 ** 30, DEFAULT_MAX_LENGTH);
  const timeout = integerOption("lines() option timeout", options.timeout, 0, Infinity, Infinity);
  return readLines(socket, maxLength, timeout === Infinity ? undefined : { timeout });
}

async function* readLines(
  socket: Pick<Socket, "recv">,
  maxLength: number,
  recvOptions: { timeout: number } | undefined,
): AsyncGenerator<string, void> {
  const decoder = new TextDecoder();
  // Bytes after the last LF: at most maxLength + 1 (room for a CR before the LF to come).
  let partial: Uint8Array = new Uint8Array(0);
  for (;;) {
    const chunk = await socket.recv(0, recvOptions);
    if (chunk === null) break;
    let start = 0;
    for (let end = chunk.indexOf(LF); end >= 0; end = chunk.indexOf(LF, start)) {
      const line = partial.length === 0 ? chunk.subarray(start, end) : join(partial, chunk.subarray(start, end));
      partial = new Uint8Array(0);
      start = end + 1;
      const length = line.length > 0 && line[line.length - 1] === CR ? line.length - 1 : line.length;
      if (length > maxLength) throw new LineTooLongError(maxLength);
      yield decoder.decode(line.subarray(0, length));
    }
    if (start < chunk.length) {
      const rest = chunk.subarray(start);
      const pending = partial.length + rest.length;
      // One byte over is still fine when it is the CR of a CRLF.
      if (pending > maxLength + 1 || (pending === maxLength + 1 && rest[rest.length - 1] !== CR)) {
        throw new LineTooLongError(maxLength);
      }
      // A copy: the socket's chunk may be large and this keeps only the tail.
      partial = join(partial, rest);
    }
  }
  if (partial.length > 0) {
    const length = partial[partial.length - 1] === CR ? partial.length - 1 : partial.length;
    if (length > 0) yield decoder.decode(partial.subarray(0, length));
  }
}

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
