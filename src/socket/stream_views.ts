/**
 * The Web Streams views of a socket. The reading one pulls one `recv(0)` at
 * a time (no read-ahead: the socket's own buffer and backpressure stay in
 * charge); the writing one awaits each `send()`.
 *
 * @module
 */
import type { Socket } from "../transport.ts";

/** A `ReadableStream` that reads `socket` and cancels by shutting down its reading side. */
export function readableView(socket: Pick<Socket, "recv" | "shutdown">): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(
    {
      pull: async (controller) => {
        const chunk = await socket.recv(0);
        if (chunk === null) controller.close();
        else controller.enqueue(chunk);
      },
      cancel: () => socket.shutdown("read"),
    },
    { highWaterMark: 0 },
  );
}

/** A `WritableStream` that sends to `socket`, closes by shutting down its writing side and aborts by destroying it. */
export function writableView(socket: Pick<Socket, "send" | "shutdown" | "destroy">): WritableStream<Uint8Array> {
  return new WritableStream<Uint8Array>({
    write: (chunk) => socket.send(chunk),
    close: () => socket.shutdown("write"),
    abort: () => socket.destroy(),
  });
}
