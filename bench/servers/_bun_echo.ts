/**
 * The raw Bun echo, shared by raw_bun.ts (`Bun.listen`) and raw_tls_bun.ts
 * (`Bun.listen` with `tls`): a `data` handler writing back. Bun's
 * `socket.write` takes what the kernel (or, with TLS, the record layer)
 * accepts and returns the count: the rest waits in a per-socket queue
 * flushed by `drain`, and reading pauses only while more than 64 KiB waits
 * (each pause/resume is a syscall).
 *
 * @module
 */
import { control, flag } from "./_control.ts";

const HIGH_WATER_MARK = 64 * 1024;

interface Pending {
  chunks: Uint8Array[];
  bytes: number;
  paused: boolean;
}
interface Socket {
  data: Pending | undefined;
  write(bytes: Uint8Array): number;
  pause(): void;
  resume(): void;
}
/** A certificate and its key: PEM text or `Bun.file(path)`. */
export interface BunTls {
  cert: unknown;
  key: unknown;
}
declare const Bun: {
  listen(options: {
    hostname: string;
    port: number;
    tls?: BunTls;
    socket: {
      binaryType: "uint8array";
      data(socket: Socket, chunk: Uint8Array): void;
      drain(socket: Socket): void;
      error(socket: Socket, error: Error): void;
    };
  }): { port: number; stop(closeActive?: boolean): void };
};

function flush(socket: Socket, pending: Pending): void {
  const chunks = pending.chunks;
  while (chunks.length > 0) {
    const chunk = chunks[0]!;
    const written = socket.write(chunk);
    if (written < 0) return; // closed
    pending.bytes -= written;
    if (written < chunk.length) {
      chunks[0] = chunk.subarray(written);
      return;
    }
    chunks.shift();
  }
}

/** Listens on 127.0.0.1 (`--port`, default any free one), with `tls` if given, and serves `_control.ts`. */
export function serve(tls?: BunTls): void {
  const listener = Bun.listen({
    hostname: "127.0.0.1",
    port: Number(flag("port", "0")),
    ...(tls === undefined ? {} : { tls }),
    socket: {
      binaryType: "uint8array",
      data(socket, chunk) {
        let pending = socket.data;
        if (pending === undefined || pending.bytes === 0) {
          const written = socket.write(chunk);
          if (written === chunk.length || written < 0) return;
          pending ??= socket.data = { chunks: [], bytes: 0, paused: false };
          chunk = chunk.subarray(written);
        }
        pending.chunks.push(chunk);
        pending.bytes += chunk.length;
        if (pending.bytes > HIGH_WATER_MARK && !pending.paused) {
          pending.paused = true;
          socket.pause();
        }
      },
      drain(socket) {
        const pending = socket.data;
        if (pending === undefined || pending.bytes === 0) return;
        flush(socket, pending);
        if (pending.paused && pending.bytes <= HIGH_WATER_MARK) {
          pending.paused = false;
          socket.resume();
        }
      },
      error() {
        // a reset peer: Bun closes the socket
      },
    },
  });
  control(listener.port, () => listener.stop(true));
}
