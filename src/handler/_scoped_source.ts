/**
 * A `handler()`'s callbacks run from the socket's read path, which the
 * runtime calls in whatever async context the socket was made in (the
 * listener's), not the connection's. While someone traces connections,
 * the handler's deliveries go through this source, which re-enters the
 * context captured when the connection started: a store bound to
 * `corral:connection`'s start (an OpenTelemetry span) is then active in
 * `data`, `end`, `error` and `close`, as it is in a function protocol.
 * Untraced connections never see it.
 *
 * @module
 */
import type { ClosedError } from "../errors.ts";
import { HOLD, PUSH, type PushSink, type PushSource, RELEASE } from "../socket/push_sink.ts";
import type { Scope } from "../telemetry/channels.ts";

/** `inner`, delivering every event inside `scope`. */
export class ScopedSource implements PushSource {
  readonly #inner: PushSource;
  readonly #scope: Scope;

  constructor(inner: PushSource, scope: Scope) {
    this.#inner = inner;
    this.#scope = scope;
  }

  [PUSH](sink: PushSink): void {
    this.#inner[PUSH](new ScopedSink(sink, this.#scope));
  }

  [HOLD](): void {
    this.#inner[HOLD]();
  }

  [RELEASE](): void {
    this.#inner[RELEASE]();
  }
}

/** Passes each event on inside the scope; the bound calls are made once, not per chunk. */
class ScopedSink implements PushSink {
  readonly #scope: Scope;
  readonly #data: (chunk: Uint8Array) => void;
  readonly #end: () => void;
  readonly #close: (error: ClosedError | undefined) => void;

  constructor(sink: PushSink, scope: Scope) {
    this.#scope = scope;
    this.#data = (chunk) => sink.pushData(chunk);
    this.#end = () => sink.pushEnd();
    this.#close = (error) => sink.pushClose(error);
  }

  pushData(chunk: Uint8Array): void {
    this.#scope(this.#data, chunk);
  }

  pushEnd(): void {
    this.#scope(this.#end);
  }

  pushClose(error: ClosedError | undefined): void {
    this.#scope(this.#close, error);
  }
}
