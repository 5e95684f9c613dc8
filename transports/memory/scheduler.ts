/**
 * The clocks the memory transport's delayed deliveries run on: real timers
 * by default, or a {@linkcode VirtualClock} a test drives, so a 200 ms
 * latency costs no real time and every delivery happens in a fixed order.
 *
 * @module
 */

/**
 * Runs delayed tasks for the memory transport (its `latency` and
 * `coalesce` faults). Implement it to put deliveries on your own fake
 * clock; {@linkcode VirtualClock} is one.
 */
export interface Scheduler {
  /**
   * The current time.
   *
   * @returns Milliseconds, on this scheduler's own clock.
   */
  now(): number;
  /**
   * Runs `task` once, `delay` ms from now.
   *
   * @param delay Milliseconds from now, 0 or more.
   * @param task What to run.
   * @returns A function that cancels the task if it has not run.
   */
  schedule(delay: number, task: () => void): () => void;
}

/** Real time: `performance.now()` and the global `setTimeout`, looked up at each call (so fake timers apply). */
export const realScheduler: Scheduler = Object.freeze({
  now: () => performance.now(),
  schedule(delay: number, task: () => void): () => void {
    const timer = setTimeout(task, delay);
    return () => clearTimeout(timer);
  },
});

/** Runs `callback` on a later turn of the event loop, after every queued microtask. */
const nextMacrotask: (callback: () => void) => void = typeof globalThis.setImmediate === "function"
  ? (callback) => globalThis.setImmediate(callback)
  : (callback) => setTimeout(callback, 0);

interface Task {
  due: number;
  run: () => void;
}

/** Options of {@linkcode VirtualClock}. */
export interface VirtualClockOptions {
  /**
   * `true` (the default): whenever tasks are pending, the clock jumps to
   * the next one on the next event-loop turn, so delays cost no real time
   * and nothing needs to drive the clock. `false`: time moves only with
   * {@linkcode VirtualClock.advance}.
   */
  auto?: boolean;
}

/**
 * A fake clock for the memory transport's `scheduler` option. Time starts
 * at 0 and moves only from task to task, so a run's deliveries happen in
 * the same order at the same virtual times, whatever the machine's load.
 * One task runs per event-loop turn, after the microtasks the previous one
 * caused have settled.
 *
 * @example 200 ms of latency in no real time
 * ```ts
 * import assert from "node:assert/strict";
 * import { listen } from "../../mod.ts";
 * import { memory, VirtualClock } from "../memory.ts";
 * const clock = new VirtualClock();
 * const listener = await listen({
 *   transport: memory({ latency: 200, scheduler: clock }),
 *   protocol: async (conn) => {
 *     const socket = await conn.handshake();
 *     for await (const chunk of socket) await socket.send(chunk);
 *   },
 * });
 * const client = await memory().connect({ name: (listener.address as { name: string }).name });
 * await client.send("ping");
 * assert(new TextDecoder().decode((await client.recv(4))!) === "ping");
 * assert(clock.now() === 400); // there and back
 * await client.close();
 * await listener.stop();
 * ```
 */
export class VirtualClock implements Scheduler {
  #now = 0;
  #tasks: Task[] = []; // by due time, then by scheduling order
  #auto: boolean;
  #stepQueued = false;

  /**
   * Makes a clock at time 0 with no tasks.
   *
   * @param options `auto: false` to move time only with {@linkcode VirtualClock.advance}.
   * @throws {TypeError} When `options.auto` is given and is not a boolean.
   *
   * @example A clock that moves only when told to
   * ```ts
   * import assert from "node:assert/strict";
   * import { VirtualClock } from "./scheduler.ts";
   * const clock = new VirtualClock({ auto: false });
   * assert(clock.now() === 0 && clock.pending === 0);
   * ```
   */
  constructor(options: VirtualClockOptions = {}) {
    if (options.auto !== undefined && typeof options.auto !== "boolean") {
      throw new TypeError(`VirtualClock option auto must be true or false, got ${typeof options.auto}`);
    }
    this.#auto = options.auto ?? true;
  }

  /**
   * The virtual time.
   *
   * @returns Milliseconds since the clock was made, in virtual time.
   *
   * @example Time moves by what advance() is given
   * ```ts
   * import assert from "node:assert/strict";
   * import { VirtualClock } from "./scheduler.ts";
   * const clock = new VirtualClock({ auto: false });
   * await clock.advance(1500);
   * assert(clock.now() === 1500);
   * ```
   */
  now(): number {
    return this.#now;
  }

  /** Tasks scheduled and neither run nor cancelled. */
  get pending(): number {
    return this.#tasks.length;
  }

  /**
   * Runs `task` once, `delay` ms of virtual time from now. Tasks due at the
   * same time run in the order they were scheduled.
   *
   * @param delay Milliseconds from now; a finite number, 0 or more.
   * @param task What to run.
   * @returns A function that cancels the task (doing nothing once it ran).
   * @throws {RangeError} When `delay` is negative, `NaN` or `Infinity`.
   *
   * @example Scheduling, cancelling, and advancing past both
   * ```ts
   * import assert from "node:assert/strict";
   * import { VirtualClock } from "./scheduler.ts";
   * const clock = new VirtualClock({ auto: false });
   * const ran: string[] = [];
   * clock.schedule(10, () => ran.push("kept"));
   * const cancel = clock.schedule(5, () => ran.push("cancelled"));
   * cancel();
   * await clock.advance(10);
   * assert.deepEqual(ran, ["kept"]);
   * ```
   */
  schedule(delay: number, task: () => void): () => void {
    if (typeof delay !== "number" || !(delay >= 0) || delay === Infinity) {
      throw new RangeError(`VirtualClock.schedule(delay): delay must be a finite number >= 0, got ${delay}`);
    }
    const entry: Task = { due: this.#now + delay, run: task };
    const tasks = this.#tasks;
    let at = tasks.length;
    while (at > 0 && tasks[at - 1]!.due > entry.due) at--;
    tasks.splice(at, 0, entry);
    this.#queueStep();
    return () => {
      const index = this.#tasks.indexOf(entry);
      if (index >= 0) this.#tasks.splice(index, 1);
    };
  }

  /**
   * Moves time forward by `ms`, running every task that falls due on the
   * way, each on its own event-loop turn so what it causes settles before
   * the next one runs (tasks scheduled meanwhile run too when they fall
   * inside the window).
   *
   * @param ms Milliseconds of virtual time; a finite number, 0 or more.
   * @returns A promise that resolves once time is `ms` later and every task due by then has run.
   * @throws {RangeError} When `ms` is negative, `NaN` or `Infinity` (the promise rejects).
   *
   * @example Only what falls due runs
   * ```ts
   * import assert from "node:assert/strict";
   * import { VirtualClock } from "./scheduler.ts";
   * const clock = new VirtualClock({ auto: false });
   * const ran: number[] = [];
   * clock.schedule(100, () => ran.push(100));
   * clock.schedule(300, () => ran.push(300));
   * await clock.advance(200);
   * assert.deepEqual(ran, [100]);
   * assert(clock.now() === 200 && clock.pending === 1);
   * await clock.advance(100);
   * assert.deepEqual(ran, [100, 300]);
   * ```
   */
  async advance(ms: number): Promise<void> {
    if (typeof ms !== "number" || !(ms >= 0) || ms === Infinity) {
      throw new RangeError(`VirtualClock.advance(ms): ms must be a finite number >= 0, got ${ms}`);
    }
    const until = this.#now + ms;
    for (;;) {
      const task = this.#tasks[0];
      if (task === undefined || task.due > until) break;
      this.#runNext();
      await new Promise<void>((resolve) => nextMacrotask(resolve));
    }
    this.#now = until;
  }

  #runNext(): void {
    const task = this.#tasks.shift();
    if (task === undefined) return;
    if (task.due > this.#now) this.#now = task.due;
    task.run();
  }

  #queueStep(): void {
    if (!this.#auto || this.#stepQueued) return;
    this.#stepQueued = true;
    nextMacrotask(() => {
      this.#stepQueued = false;
      this.#runNext();
      if (this.#tasks.length > 0) this.#queueStep();
    });
  }
}
