/**
 * What a listener counts and tells beyond its connection counts: the bytes
 * of the connections that ended, the accept errors its acceptors got over,
 * the `corral:connection:limit` channel and the alarms. The supervisor
 * calls it when a connection starts and ends; the acceptors when an accept
 * fails. Each call is a few comparisons unless an alarm or a subscriber
 * has something to hear.
 *
 * @module
 */
import { AlarmBell, type Alarms, checkAlarms } from "./alarms.ts";
import type { Logger } from "./logger.ts";
import { acceptorErrorChannel, connectionLimitChannel } from "./telemetry/channels.ts";
import type { AcceptorErrorEvent, ConnectionLimitEvent } from "./telemetry/events.ts";

/** The byte totals of a listener's connections. */
export interface Traffic {
  /** Bytes received by its connections, ended and running ones. */
  bytesReceived: number;
  /** Bytes sent by its connections, ended and running ones. */
  bytesSent: number;
}

/** A connection's counters, as the metrics read them when it ends. */
interface Counted {
  readonly bytesReceived: number;
  readonly bytesSent: number;
}

/** One listener's metrics. `L` is the listener, as alarm callbacks receive it. */
export class ConnectionMetrics<L> {
  readonly #listener: L;
  readonly #ref: string;
  readonly #logger: Logger;
  #bell: AlarmBell<L> | undefined;
  /** Active connections reached `maxConnections` and have not fallen back under it. */
  #atLimit = false;
  #bytesReceived = 0;
  #bytesSent = 0;
  #acceptErrors: Record<string, number> = {};

  constructor(listener: L, ref: string, logger: Logger, alarms: Alarms<L> | undefined) {
    this.#listener = listener;
    this.#ref = ref;
    this.#logger = logger;
    this.alarms = alarms;
  }

  /** The alarms as set (`undefined`: none). */
  get alarms(): Alarms<L> | undefined {
    return this.#bell?.alarms;
  }

  /** Replaces every alarm (checked by `listen()` or by the `listener.alarms` setter). */
  set alarms(alarms: Alarms<L> | undefined) {
    this.#bell = alarms === undefined || Object.keys(alarms).length === 0
      ? undefined
      : new AlarmBell(alarms, this.#logger);
  }

  /** Checks a value for `listener.alarms` and sets it. */
  setAlarms(value: unknown): void {
    this.alarms = checkAlarms<L>("listener.alarms", value);
  }

  /** A connection started: `active` connections now count against `max`. */
  started(active: number, max: number): void {
    this.#bell?.ring(this.#listener, this.#ref, active);
    if (active >= max) this.limitChanged(active, max);
  }

  /** A connection ended (`counted` its bytes); `active` now count against `max`. */
  ended(counted: Counted, active: number, max: number): void {
    this.#bytesReceived += counted.bytesReceived;
    this.#bytesSent += counted.bytesSent;
    if (this.#atLimit) this.limitChanged(active, max);
  }

  /** The active count or the limit changed outside a start or an end (`removeFromCount()`, the setter). */
  limitChanged(active: number, max: number): void {
    const atLimit = active >= max;
    if (atLimit === this.#atLimit) return;
    this.#atLimit = atLimit;
    if (!connectionLimitChannel.hasSubscribers) return;
    const event: ConnectionLimitEvent = {
      ref: this.#ref,
      state: atLimit ? "reached" : "freed",
      activeConnections: active,
      maxConnections: max,
    };
    connectionLimitChannel.publish(event);
  }

  /** An accept failed with `code` and the acceptors carry on (`action`). */
  acceptFailed(code: string | undefined, error: unknown, action: AcceptorErrorEvent["action"]): void {
    const key = code ?? "unknown";
    this.#acceptErrors[key] = (this.#acceptErrors[key] ?? 0) + 1;
    if (!acceptorErrorChannel.hasSubscribers) return;
    const event: AcceptorErrorEvent = { ref: this.#ref, code: key, error, action };
    acceptorErrorChannel.publish(event);
  }

  /** Accept errors by code, a copy. */
  get acceptErrors(): Record<string, number> {
    return { ...this.#acceptErrors };
  }

  /** The byte totals: those of ended connections, plus `running`'s. */
  traffic(running: Iterable<Counted>): Traffic {
    let bytesReceived = this.#bytesReceived;
    let bytesSent = this.#bytesSent;
    for (const conn of running) {
      bytesReceived += conn.bytesReceived;
      bytesSent += conn.bytesSent;
    }
    return { bytesReceived, bytesSent };
  }
}
