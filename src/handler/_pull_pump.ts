/**
 * Push mode over a socket that cannot push by itself (a `Socket` from a
 * custom transport): a loop of `recv()` calls feeding the sink. Every
 * built-in transport's socket pushes directly and never needs this.
 *
 * @module
 */
import { ClosedError } from "../errors.ts";
import type { Socket } from "../transport.ts";
import { HOLD, PUSH, type PushSink, type PushSource, RELEASE } from "../socket/push_sink.ts";

/** A `PushSource` that reads `socket` with `recv()`, one read at a time, pausing while held. */
export class PullPump implements PushSource {
  readonly #socket: Socket;
  #sink: PushSink | undefined;
  #held = false;
  #release: (() => void) | undefined;

  constructor(socket: Socket) {
    this.#socket = socket;
  }

  [PUSH](sink: PushSink): void {
    this.#sink = sink;
    void this.#run();
  }

  [HOLD](): void {
    this.#held = true;
  }

  [RELEASE](): void {
    this.#held = false;
    const release = this.#release;
    this.#release = undefined;
    release?.();
  }

  async #run(): Promise<void> {
    const sink = this.#sink!;
    for (;;) {
      if (this.#held) await new Promise<void>((resolve) => (this.#release = resolve));
      let chunk: Uint8Array | null;
      try {
        chunk = await this.#socket.recv();
      } catch (error) {
        const failure = error instanceof ClosedError ? error : new ClosedError(`socket failed: ${error}`, "ECLOSED", { cause: error });
        return sink.pushClose(failure);
      }
      if (chunk === null) break;
      sink.pushData(chunk);
    }
    sink.pushEnd();
  }
}
