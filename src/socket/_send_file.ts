/**
 * `socket.sendfile()` over any socket's `send()`: a file range goes out in
 * the chunks the runtime adapter reads, each awaited like a `send()`, so a
 * slow reader holds the file where it is instead of in memory. While one
 * chunk is being sent the next is read (one chunk ahead, no more), so the
 * disk and the network work at the same time.
 *
 * Memory per transfer stays at most the socket's high-water mark, the chunk
 * being written and the chunk read ahead, 512 KiB each on every runtime; on
 * Bun, whose file stream picks that size itself, the stream also queues one
 * chunk of its own: two chunks ahead there.
 *
 * @module
 */
import { CorralError, systemErrorCode } from "../errors.ts";
import { describe, integerOption, rejectUnknownOptions } from "../options.ts";
import type { SendfileOptions, Socket } from "../transport.ts";
import { fileAccess } from "./file_access.ts";
import type { FileChunks } from "../runtime/adapter.ts";

const EMPTY = new Uint8Array(0);
const MAX_POSITION = Number.MAX_SAFE_INTEGER;

function ignore(): void {}

/**
 * Sends `length` bytes of `file` from `offset` (`undefined`: to its end) on
 * `socket`; resolves with the bytes sent once the last is queued under the
 * high-water mark.
 */
export async function sendFile(
  socket: Pick<Socket, "send">,
  file: string | URL,
  options: SendfileOptions | undefined,
): Promise<number> {
  const { offset, length } = checkOptions(file, options);
  // Fails with the socket's ClosedError when this side can no longer send, before the file is opened.
  await socket.send(EMPTY);
  const access = await fileAccess();
  let chunks: FileChunks;
  try {
    chunks = await access.openFileRange(file, offset, length);
  } catch (error) {
    throw fileError(error, file);
  }
  let sent = 0;
  let reading: Promise<Uint8Array | null> | undefined;
  try {
    if (length === 0) return 0;
    reading = chunks.next();
    for (;;) {
      let chunk: Uint8Array | null;
      try {
        chunk = await reading;
      } catch (error) {
        reading = undefined;
        throw fileError(error, file);
      }
      if (chunk === null) break;
      reading = chunks.next();
      // When the send fails, this read's own failure is of no interest.
      reading.catch(ignore);
      await socket.send(chunk);
      sent += chunk.length;
    }
    reading = undefined;
    return sent;
  } finally {
    // The file closes only once no read is under way on it.
    if (reading !== undefined) await reading.catch(ignore);
    await chunks.close().catch(ignore);
  }
}

function checkOptions(
  file: unknown,
  options: SendfileOptions | undefined,
): { offset: number; length: number | undefined } {
  if (!(typeof file === "string" && file !== "") && !(file instanceof URL && file.protocol === "file:")) {
    throw new TypeError(`sendfile(file): file must be a path or a file: URL, got ${describe(file)}`);
  }
  if (options === undefined) return { offset: 0, length: undefined };
  if (options === null || typeof options !== "object") {
    throw new TypeError(`sendfile(file, options): options must be an object, got ${describe(options)}`);
  }
  rejectUnknownOptions("sendfile()", options, ["offset", "length"]);
  const offset = integerOption("sendfile() option offset", options.offset, 0, MAX_POSITION, 0);
  if (options.length === undefined) return { offset, length: undefined };
  const length = integerOption("sendfile() option length", options.length, 0, MAX_POSITION - offset, 0);
  return { offset, length };
}

/** A file that cannot be opened or read fails with its system code, such as `ENOENT`. */
function fileError(error: unknown, file: string | URL): CorralError {
  const code = systemErrorCode(error) ?? "EIO";
  const reason = error instanceof Error ? error.message : String(error);
  return new CorralError(code, `sendfile(): cannot read ${String(file)}: ${reason}`, { cause: error });
}
