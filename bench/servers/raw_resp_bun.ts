/**
 * The raw Bun RESP twin of examples/resp_server.ts: `Bun.listen` with a
 * `data` handler, the same parser, one write per batch; what the kernel did
 * not take waits for `drain` (reading pauses while over 64 KiB waits).
 *
 *   bun run bench/servers/raw_resp_bun.ts [--port N]
 *
 * @module
 */
import { control, flag } from "./_control.ts";
import { RespConnection } from "./_resp_raw.ts";

const HIGH_WATER_MARK = 64 * 1024;

interface State {
  resp: RespConnection;
  queue: Uint8Array[];
  queued: number;
  paused: boolean;
}
interface Socket {
  data: State;
  write(bytes: Uint8Array): number;
  pause(): void;
  resume(): void;
  end(): void;
}
declare const Bun: {
  listen(options: {
    hostname: string;
    port: number;
    socket: {
      binaryType: "uint8array";
      open(socket: Socket): void;
      data(socket: Socket, chunk: Uint8Array): void;
      drain(socket: Socket): void;
      error(socket: Socket, error: Error): void;
    };
  }): { port: number; stop(closeActive?: boolean): void };
};

function flush(socket: Socket, state: State): void {
  const queue = state.queue;
  while (queue.length > 0) {
    const chunk = queue[0]!;
    const written = socket.write(chunk);
    if (written < 0) return; // closed
    state.queued -= written;
    if (written < chunk.length) {
      queue[0] = chunk.subarray(written);
      return;
    }
    queue.shift();
  }
}

const listener = Bun.listen({
  hostname: "127.0.0.1",
  port: Number(flag("port", "0")),
  socket: {
    binaryType: "uint8array",
    open(socket) {
      socket.data = { resp: new RespConnection(), queue: [], queued: 0, paused: false };
    },
    data(socket, chunk) {
      const state = socket.data;
      let out = state.resp.feed(chunk, false); // each data chunk is a fresh buffer
      if (out !== undefined) {
        if (state.queued === 0) {
          const written = socket.write(out);
          out = written === out.length || written < 0 ? undefined : out.subarray(written);
        }
        if (out !== undefined) {
          state.queue.push(out);
          state.queued += out.length;
          if (state.queued > HIGH_WATER_MARK && !state.paused) {
            state.paused = true;
            socket.pause();
          }
        }
      }
      if (state.resp.close) socket.end();
    },
    drain(socket) {
      const state = socket.data;
      if (state.queued === 0) return;
      flush(socket, state);
      if (state.paused && state.queued <= HIGH_WATER_MARK) {
        state.paused = false;
        socket.resume();
      }
    },
    error() {
      // a reset peer: Bun closes the socket
    },
  },
});
control(listener.port, () => listener.stop(true));
