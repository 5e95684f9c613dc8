/**
 * The floor of the idiomatic Corral protocol shape on Node.js: the same
 * `for await (const chunk of socket) await send(chunk)` loop, over a
 * `node:net` socket wrapped by the smallest async iterator that keeps the
 * socket's semantics (chunks the reader owns, pause while nobody reads,
 * await a write only while the kernel is behind). No listener, supervisor
 * or Socket class: what is left of Corral's cost above this floor is
 * Corral's own; what is between raw and this floor is the price of
 * promises and async iteration themselves.
 *
 *   node --expose-gc bench/build/floor_node.mjs [--port N]   (bundled by bench/run.mjs)
 *
 * @module
 */
import * as net from "node:net";
import { control, flag } from "./_control.ts";

const RESOLVED: Promise<void> = Promise.resolve();
const DONE: IteratorResult<Uint8Array> = { value: undefined, done: true };

function chunks(socket: net.Socket): AsyncIterableIterator<Uint8Array> {
  let waiting: ((result: IteratorResult<Uint8Array>) => void) | undefined;
  const queue: Uint8Array[] = [];
  let ended = false;
  const wake = (result: IteratorResult<Uint8Array>) => {
    const resolve = waiting!;
    waiting = undefined;
    resolve(result);
  };
  socket.on("data", (chunk: Uint8Array) => {
    if (waiting !== undefined) wake({ value: chunk, done: false });
    else {
      queue.push(chunk);
      socket.pause();
    }
  });
  socket.on("end", () => {
    ended = true;
    if (waiting !== undefined) wake(DONE);
  });
  socket.on("error", () => socket.destroy());
  socket.on("close", () => {
    ended = true;
    if (waiting !== undefined) wake(DONE);
  });
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next() {
      const chunk = queue.shift();
      if (chunk !== undefined) {
        if (queue.length === 0) socket.resume();
        return Promise.resolve({ value: chunk, done: false });
      }
      if (ended) return Promise.resolve(DONE);
      return new Promise((resolve) => (waiting = resolve));
    },
  };
}

function send(socket: net.Socket, chunk: Uint8Array): Promise<void> {
  return socket.write(chunk) ? RESOLVED : new Promise((resolve) => socket.once("drain", resolve));
}

const server = net.createServer({ noDelay: true, allowHalfOpen: true }, async (socket) => {
  for await (const chunk of chunks(socket)) await send(socket, chunk);
  socket.end();
});
server.listen({ host: "127.0.0.1", port: Number(flag("port", "0")), backlog: 1024 }, () => {
  control((server.address() as net.AddressInfo).port, () => new Promise((resolve) => server.close(resolve)));
});
