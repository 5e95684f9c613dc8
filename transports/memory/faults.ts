/**
 * The memory transport's fault options: their checks, and how a listener's
 * and a connection's options combine into one connection's plan. Every
 * random choice comes from generators derived from the `seed`, one per
 * connection and direction, so a run with the same seed and the same writes
 * replays exactly.
 *
 * @module
 */
import { CorralError } from "../../src/errors.ts";
import { describe, integerOption, rejectUnknownOptions } from "../../src/options.ts";
import { realScheduler, type Scheduler } from "./scheduler.ts";
import { FaultyWire, type WireReceiver } from "./_wire.ts";
import { deriveSeed, MAX_SEED, randomSeed, SeededRandom } from "./seeded_random.ts";

/** A fixed number of milliseconds or bytes, or a range a seeded draw picks from. */
export type FaultAmount = number | { min: number; max: number };

/** The fault options `memory()` and `memory().connect()` share. */
export interface MemoryFaultOptions {
  /**
   * Seeds every random choice (an integer from 0 to 2^32 - 1). When faults
   * are set and no seed is, `memory()` picks one and keeps it in
   * `transport.options.seed`; reset errors name it.
   */
  seed?: number;
  /** Split every write into pieces of 1 to `max` bytes, delivered in order as separate reads. */
  fragment?: { max: number };
  /** Merge writes that are in flight together into one read (on the next scheduler turn). */
  coalesce?: boolean;
  /** Delay each piece by this many ms (or a seeded pick from `{ min, max }`), keeping the order. */
  latency?: FaultAmount;
  /** Reset the connection once this many bytes (both directions together) have arrived. */
  reset?: { after: FaultAmount };
  /** `false`: a `shutdown("write")` closes the whole connection, as a proxy without half-close does. Default true. */
  halfClose?: boolean;
  /** Runs `latency` and `coalesce` deliveries. Default: real timers. */
  scheduler?: Scheduler;
}

/** The option names above, for unknown-option checks. */
export const FAULT_OPTIONS = ["seed", "fragment", "coalesce", "latency", "reset", "halfClose", "scheduler"] as const;

/** Whether any option that changes delivery is set (the seed and scheduler alone change nothing). */
export function hasFaults(options: MemoryFaultOptions): boolean {
  return options.fragment !== undefined || options.coalesce === true || options.latency !== undefined ||
    options.reset !== undefined || options.halfClose === false;
}

/** Checks the fault options, naming the one that is wrong. */
export function checkFaultOptions(where: string, options: MemoryFaultOptions): void {
  integerOption(`${where} option seed`, options.seed, 0, MAX_SEED, 0);
  if (options.fragment !== undefined) {
    objectOption(`${where} option fragment`, options.fragment, "{ max }");
    rejectUnknownOptions(`${where} option fragment`, options.fragment, ["max"]);
    if (options.fragment.max === undefined) throw new TypeError(`${where} option fragment.max is required`);
    integerOption(`${where} option fragment.max`, options.fragment.max, 1, 2 ** 31, 1);
  }
  if (options.coalesce !== undefined && typeof options.coalesce !== "boolean") {
    throw new TypeError(`${where} option coalesce must be true or false, got ${describe(options.coalesce)}`);
  }
  if (options.latency !== undefined) amountOption(`${where} option latency`, options.latency, 2 ** 31 - 1);
  if (options.reset !== undefined) {
    objectOption(`${where} option reset`, options.reset, "{ after }");
    rejectUnknownOptions(`${where} option reset`, options.reset, ["after"]);
    if (options.reset.after === undefined) throw new TypeError(`${where} option reset.after is required`);
    amountOption(`${where} option reset.after`, options.reset.after, 2 ** 53 - 1);
  }
  if (options.halfClose !== undefined && typeof options.halfClose !== "boolean") {
    throw new TypeError(`${where} option halfClose must be true or false, got ${describe(options.halfClose)}`);
  }
  const scheduler = options.scheduler;
  if (
    scheduler !== undefined &&
    (typeof scheduler !== "object" || scheduler === null || typeof scheduler.now !== "function" ||
      typeof scheduler.schedule !== "function")
  ) {
    throw new TypeError(
      `${where} option scheduler must have now() and schedule(delay, task), got ${describe(scheduler)}`,
    );
  }
}

/** The listener's options with a seed filled in when faults are set, so a run can always be replayed. */
export function withSeed<O extends MemoryFaultOptions>(options: O): O {
  return options.seed === undefined && hasFaults(options) ? { ...options, seed: randomSeed() } : options;
}

/**
 * One connection's faults: the listener's options with the connection's
 * merged over them key by key, or `undefined` when nothing is set (the
 * channel then takes its fast path). `index` numbers the listener's
 * connections, so each gets its own draws from the listener's seed.
 */
export function planConnection(
  listener: MemoryFaultOptions,
  connection: MemoryFaultOptions,
  index: number,
): ConnectionFaults | undefined {
  const merged: MemoryFaultOptions = { ...listener };
  for (const key of FAULT_OPTIONS) {
    if (connection[key] !== undefined) Object.assign(merged, { [key]: connection[key] });
  }
  if (!hasFaults(merged)) return undefined;
  // A connection's own seed replays it alone; the listener's seed replays its connections in order.
  const seeded = connection.seed !== undefined ? { seed: connection.seed, index: 0 } : { seed: merged.seed, index };
  return new ConnectionFaults(merged, seeded.seed ?? randomSeed(), seeded.index);
}

/**
 * The reset the `reset` fault injects. Sockets report it as a
 * `ClosedError` with code `ECONNRESET` whose `cause` is this error, which
 * carries the seed that replays the run.
 *
 * @example Finding the seed of an injected reset
 * ```ts
 * import assert from "node:assert/strict";
 * import { InjectedResetError } from "../../testing.ts";
 * const error = new InjectedResetError("reset after 10 bytes", 42);
 * assert(error.code === "ECONNRESET" && error.seed === 42);
 * ```
 */
export class InjectedResetError extends CorralError {
  /** The seed of the run, to replay it. */
  readonly seed: number;

  /**
   * Code `"ECONNRESET"`; `seed` is the run's seed.
   *
   * @param message Where the reset fell, such as after how many bytes.
   * @param seed The fault seed of the run.
   *
   * @example Replaying from the seed
   * ```ts
   * import assert from "node:assert/strict";
   * import { InjectedResetError } from "../../testing.ts";
   * const error = new InjectedResetError("reset after 3 bytes", 7);
   * assert(error.message === "reset after 3 bytes" && error.seed === 7);
   * ```
   */
  constructor(message: string, seed: number) {
    super("ECONNRESET", message);
    this.seed = seed;
  }
}

/** What both ends of one faulty connection share: the plan, and the byte count toward a reset. */
export class ConnectionFaults {
  /** The seed these faults were drawn from. */
  readonly seed: number;
  /** Whether a write shutdown stays a half-close. */
  readonly halfClose: boolean;
  #options: MemoryFaultOptions;
  #streamSeed: number;
  #resetAfter: number | undefined;
  #arrived = 0;

  constructor(options: MemoryFaultOptions, seed: number, index: number) {
    this.#options = options;
    this.seed = seed;
    this.#streamSeed = deriveSeed(seed, index);
    this.halfClose = options.halfClose ?? true;
    const after = options.reset?.after;
    if (after !== undefined) this.#resetAfter = pick(new SeededRandom(deriveSeed(this.#streamSeed, 2)), after);
  }

  /** The wire for one direction: 0 carries client to server, 1 server to client. */
  wire(direction: 0 | 1, receiver: WireReceiver): FaultyWire {
    const options = this.#options;
    const latency = options.latency;
    return new FaultyWire(
      {
        fragmentMax: options.fragment?.max,
        coalesce: options.coalesce ?? false,
        latency: latency === undefined
          ? undefined
          : typeof latency === "number"
          ? { min: latency, max: latency }
          : latency,
        scheduler: options.scheduler ?? realScheduler,
      },
      new SeededRandom(deriveSeed(this.#streamSeed, direction)),
      receiver,
    );
  }

  /**
   * Counts arriving bytes: returns how many of `length` arrive before the
   * reset point (all of them when there is none).
   */
  admit(length: number): number {
    const limit = this.#resetAfter;
    if (limit === undefined) return length;
    const allowed = Math.min(length, limit - this.#arrived);
    this.#arrived += allowed;
    return allowed;
  }

  /** Whether the reset point is reached: the connection must reset now. */
  get resetDue(): boolean {
    return this.#resetAfter !== undefined && this.#arrived >= this.#resetAfter;
  }

  /** The error both ends see when the reset point is reached. */
  resetError(): InjectedResetError {
    return new InjectedResetError(
      `connection reset by the memory transport's reset fault after ${this.#arrived} bytes` +
        ` (seed ${this.seed}; pass { seed: ${this.seed} } to replay)`,
      this.seed,
    );
  }
}

function pick(random: SeededRandom, amount: FaultAmount): number {
  return typeof amount === "number" ? amount : random.integer(amount.min, amount.max);
}

function objectOption(name: string, value: unknown, shape: string): void {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new TypeError(`${name} must be an object ${shape}, got ${describe(value)}`);
  }
}

function amountOption(name: string, value: unknown, max: number): void {
  if (typeof value === "number") {
    integerOption(name, value, 0, max, 0);
    return;
  }
  objectOption(name, value, "or a number: { min, max }");
  const range = value as { min?: unknown; max?: unknown };
  rejectUnknownOptions(name, range, ["min", "max"]);
  if (range.min === undefined || range.max === undefined) throw new TypeError(`${name} needs both min and max`);
  const min = integerOption(`${name}.min`, range.min, 0, max, 0);
  const top = integerOption(`${name}.max`, range.max, 0, max, 0);
  if (top < min) throw new RangeError(`${name}.max must be >= ${name}.min (${min}), got ${top}`);
}
