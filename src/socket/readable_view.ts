/**
 * The Web Streams reading view of a socket, pulled one `recv(0)` at a time
 * (no read-ahead: the socket's own buffer and backpressure stay in charge).
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
