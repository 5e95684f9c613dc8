/**
 * The floor of the idiomatic Corral protocol shape on Bun: the same
 * `for await (const chunk of socket) await send(chunk)` loop over a
 * `Bun.listen` socket wrapped by the smallest async iterator that keeps the
 * socket's semantics (pause while nobody reads, await a write only while
 * the kernel is behind). See floor_node.ts.
 *
 *   bun run bench/servers/floor_bun.ts [--port N]
 *
 * @module
 */
import { control, flag } from "./_control.ts";

const RESOLVED: Promise<void> = Promise.resolve();
const DONE: IteratorResult<Uint8Array> = { value: undefined, done: true };

/** One connection: the reader's side (iterator) and the writer's (send). */
class Channel implements AsyncIterableIterator<Uint8Array> {
  socket: Socket;
  queue: Uint8Array[] = [];
  waiting: ((result: IteratorResult<Uint8Array>) => void) | undefined;
  ended = false;
  /** Bytes the kernel did not take yet, and who waits for them to go. */
  unsent: Uint8Array | undefined;
  drained: (() => void) | undefined;

  constructor(socket: Socket) {
    this.socket = socket;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    const chunk = this.queue.shift();
    if (chunk !== undefined) {
      if (this.queue.length === 0) this.socket.resume();
      return Promise.resolve({ value: chunk, done: false });
    }
    if (this.ended) return Promise.resolve(DONE);
    return new Promise((resolve) => (this.waiting = resolve));
  }

  received(chunk: Uint8Array): void {
    const resolve = this.waiting;
    if (resolve !== undefined) {
      this.waiting = undefined;
      resolve({ value: chunk, done: false });
    } else {
      this.queue.push(chunk);
      this.socket.pause();
    }
  }

  end(): void {
    this.ended = true;
    const resolve = this.waiting;
    this.waiting = undefined;
    resolve?.(DONE);
  }

  send(chunk: Uint8Array): Promise<void> {
    const written = this.socket.write(chunk);
    if (written === chunk.length || written < 0) return RESOLVED;
    this.unsent = chunk.subarray(written);
    return new Promise((resolve) => (this.drained = resolve));
  }

  drain(): void {
    const unsent = this.unsent;
    if (unsent === undefined) return;
    const written = this.socket.write(unsent);
    if (written >= 0 && written < unsent.length) {
      this.unsent = unsent.subarray(written);
      return;
    }
    this.unsent = undefined;
    const resolve = this.drained!;
    this.drained = undefined;
    resolve();
  }
}

interface Socket {
  data: Channel;
  write(bytes: Uint8Array): number;
  pause(): void;
  resume(): void;
  end(): void;
}
declare const Bun: {
  listen(options: {
    hostname: string;
    port: number;
    allowHalfOpen: boolean;
    socket: {
      binaryType: "uint8array";
      open(socket: Socket): void;
      data(socket: Socket, chunk: Uint8Array): void;
      drain(socket: Socket): void;
      end(socket: Socket): void;
      close(socket: Socket): void;
      error(socket: Socket, error: Error): void;
    };
  }): { port: number; stop(closeActive?: boolean): void };
};

async function echo(channel: Channel): Promise<void> {
  for await (const chunk of channel) await channel.send(chunk);
  channel.socket.end();
}

const listener = Bun.listen({
  hostname: "127.0.0.1",
  port: Number(flag("port", "0")),
  allowHalfOpen: true,
  socket: {
    binaryType: "uint8array",
    open(socket) {
      socket.data = new Channel(socket);
      void echo(socket.data);
    },
    data: (socket, chunk) => socket.data.received(chunk),
    drain: (socket) => socket.data.drain(),
    end: (socket) => socket.data.end(),
    close: (socket) => socket.data.end(),
    error() {
      // a reset peer: Bun closes the socket
    },
  },
});
control(listener.port, () => listener.stop(true));
