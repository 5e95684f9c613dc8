/**
 * Connection-count alarms (Ranch's `alarms`): a callback when a listener's
 * active connections reach a threshold, then not again until its cooldown
 * has passed. Checked when a connection starts, and only against the
 * alarms whose threshold is reached: a listener without alarms pays one
 * `undefined` check per connection.
 *
 * @module
 */
import type { Logger } from "./logger.ts";
import { describe, integerOption, rejectUnknownOptions } from "./options.ts";

/**
 * One alarm of the `alarms` option of `listen()` (or of `listener.alarms`).
 * `L` is the listener type the callback receives.
 */
export interface ConnectionsAlarm<L = unknown> {
  /** What is watched: the listener's active connections (the only kind so far). */
  type: "connections";
  /** Active connections (those counted against `maxConnections`) that set it off; an integer from 1. */
  threshold: number;
  /** Ms after firing during which it stays quiet, whatever the count. Default 5000. */
  cooldown?: number;
  /**
   * Called when a connection starts and the active connections are at or
   * over the threshold, outside the cooldown. A throw is logged, nothing else.
   */
  callback(listener: L, name: string, connections: number): void;
}

/** The `alarms` option: alarms by name. */
export type Alarms<L = unknown> = Record<string, ConnectionsAlarm<L>>;

/** One alarm as it runs: its checked settings, and when it may fire again. */
interface ArmedAlarm<L> {
  name: string;
  threshold: number;
  cooldown: number;
  callback: (listener: L, name: string, connections: number) => void;
  quietUntil: number;
}

const ALARM_KEYS = ["type", "threshold", "cooldown", "callback"] as const;

/**
 * Checks an `alarms` value; `name` names where it came from
 * (`"listen() option alarms"`, `"listener.alarms"`).
 */
export function checkAlarms<L>(name: string, value: unknown): Alarms<L> | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new TypeError(`${name} must be an object of alarms by name, got ${describe(value)}`);
  }
  for (const [key, alarm] of Object.entries(value)) {
    const where = `${name}.${key}`;
    if (alarm === null || typeof alarm !== "object" || Array.isArray(alarm)) {
      throw new TypeError(
        `${where} must be { type: "connections", threshold, cooldown, callback }, got ${describe(alarm)}`,
      );
    }
    rejectUnknownOptions(where, alarm, ALARM_KEYS);
    const { type, threshold, cooldown, callback } = alarm as ConnectionsAlarm<L>;
    if (type !== "connections") throw new TypeError(`${where}.type must be "connections", got ${describe(type)}`);
    if (threshold === undefined) throw new TypeError(`${where}.threshold is missing: an integer from 1`);
    integerOption(`${where}.threshold`, threshold, 1, Number.MAX_SAFE_INTEGER, 0);
    integerOption(`${where}.cooldown`, cooldown, 0, 2 ** 31 - 1, 5000);
    if (typeof callback !== "function") {
      throw new TypeError(
        `${where}.callback must be a function (listener, name, connections) => void, got ${describe(callback)}`,
      );
    }
  }
  return value as Alarms<L>;
}

/** A listener's alarms as they run: set with checked alarms, rung at each connection start. */
export class AlarmBell<L> {
  readonly alarms: Alarms<L>;
  #armed: ArmedAlarm<L>[];
  /** The lowest threshold: below it, `ring` returns at once. */
  #lowest: number;
  #logger: Logger;

  constructor(alarms: Alarms<L>, logger: Logger) {
    this.alarms = alarms;
    this.#logger = logger;
    this.#armed = Object.entries(alarms).map(([name, alarm]) => ({
      name,
      threshold: alarm.threshold,
      cooldown: alarm.cooldown ?? 5000,
      callback: alarm.callback,
      quietUntil: -Infinity,
    }));
    this.#lowest = Math.min(...this.#armed.map((alarm) => alarm.threshold));
  }

  /** Fires every alarm whose threshold `connections` reaches and whose cooldown is over. */
  ring(listener: L, ref: string, connections: number): void {
    if (connections < this.#lowest) return;
    const now = performance.now();
    for (const alarm of this.#armed) {
      if (connections < alarm.threshold || now < alarm.quietUntil) continue;
      alarm.quietUntil = now + alarm.cooldown;
      try {
        alarm.callback(listener, alarm.name, connections);
      } catch (error) {
        this.#logger.error(`corral: [${ref}] alarm ${JSON.stringify(alarm.name)} threw`, error);
      }
    }
  }
}
