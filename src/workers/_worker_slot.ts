/**
 * One worker of a pool across its threads: starts a thread and waits for it
 * to report ready, restarts it with a back-off when it crashes, answers for
 * it in `info()`, and stops it gracefully.
 *
 * @module
 */
import { TimeoutError } from "../errors.ts";
import type { ListenerInfo } from "../listener_info.ts";
import type { Logger } from "../logger.ts";
import { describeError, errorFromData, type FromWorker, isPoolMessage, type WorkerInit } from "./_messages.ts";
import type { Thread, ThreadRuntime } from "./threads.ts";
import { WorkerError } from "./worker_error.ts";
import type { PoolWorker, WorkerInfo, WorkerStatus } from "./worker_types.ts";

/** The first restart waits this long; each crash in a row doubles it, up to MAX_DELAY. */
const FIRST_DELAY = 100;
const MAX_DELAY = 5000;
/** A worker that served this long before it crashed starts again at FIRST_DELAY: it was not crash-looping. */
const STABLE_AFTER = 10_000;
/** A running worker that has not answered `info` within this long is reported unresponsive. */
const INFO_TIMEOUT = 1000;

/** What every worker of a pool shares. */
export interface SlotConfig {
  module: URL;
  data: unknown;
  threads: ThreadRuntime;
  logger: Logger;
  startTimeout: number;
  /** The port a start binds: the pool's once the first worker got one, else the pool's `port` option. */
  port: () => number;
}

/** One worker: the `PoolWorker` the pool hands out, and the pool's handle on it. */
export class WorkerSlot implements PoolWorker {
  readonly id: number;
  #config: SlotConfig;
  #status: WorkerStatus = "starting";
  #restarts = 0;
  /** Crashes in a row, for the back-off. */
  #crashes = 0;
  #thread: Thread | undefined;
  /** The latest start: resolves with the reported port once ready, rejects if it failed. */
  #attempt: Promise<number | undefined> | undefined;
  #readyAt = 0;
  #killed = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopping: Promise<void> | undefined;
  /** Called when the thread answers `stop`, or ends. */
  #stopAnswered: (() => void) | undefined;
  #infoRequests = new Map<number, (listeners: ListenerInfo[] | undefined) => void>();
  #nextRequest = 1;

  constructor(id: number, config: SlotConfig) {
    this.id = id;
    this.#config = config;
  }

  get status(): WorkerStatus {
    return this.#status;
  }

  get restarts(): number {
    return this.#restarts;
  }

  /** The first start: resolves with the port the worker reported; rejects (its thread ended) if it failed. */
  async start(): Promise<number | undefined> {
    const port = await (this.#attempt = this.#launch());
    if (this.#status === "starting") this.#running();
    return port;
  }

  async kill(): Promise<void> {
    const thread = this.#thread;
    if (thread === undefined || this.#status === "stopping" || this.#status === "stopped") return;
    this.#killed = true;
    await thread.terminate();
  }

  async info(): Promise<WorkerInfo> {
    const thread = this.#thread;
    let listeners: ListenerInfo[] | undefined;
    if (thread !== undefined && this.#status === "running") {
      const request = this.#nextRequest++;
      listeners = await new Promise((resolve) => {
        const answer = (value: ListenerInfo[] | undefined) => {
          clearTimeout(timer);
          this.#infoRequests.delete(request);
          resolve(value);
        };
        const timer = setTimeout(() => answer(undefined), INFO_TIMEOUT);
        this.#infoRequests.set(request, answer);
        thread.post({ corral: "info", request });
      });
    }
    const { id, status, restarts } = this;
    return { id, status, restarts, responsive: listeners !== undefined, listeners: listeners ?? [] };
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#status = "stopping";
    // A start in flight finishes first (within startTimeout), so its listeners stop gracefully too.
    await this.#attempt?.catch(() => {});
    const thread = this.#thread;
    if (thread !== undefined) {
      const answered = new Promise<void>((resolve) => (this.#stopAnswered = resolve));
      thread.post({ corral: "stop" });
      await answered;
      // The worker's listeners have stopped; whatever else its module left running ends with the thread.
      await thread.terminate();
    }
    this.#status = "stopped";
  }

  #running(): void {
    this.#status = "running";
    this.#readyAt = Date.now();
  }

  /** Starts a thread; settles when it reports ready, reports failure, ends, or passes startTimeout. */
  #launch(): Promise<number | undefined> {
    const { id, config } = { id: this.id, config: this.#config };
    this.#status = "starting";
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (error: Error | undefined, port?: number) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error === undefined) resolve(port);
        else reject(error);
      };
      const timer = setTimeout(() => {
        const message = `worker ${id} did not report ready within ${config.startTimeout} ms ` +
          "(does its module call serveWorker(), and does its start function resolve?)";
        settle(new TimeoutError(message));
        void thread.terminate();
      }, config.startTimeout);
      const init: WorkerInit = { corralWorker: { id, port: config.port(), data: config.data } };
      let thread: Thread;
      try {
        thread = config.threads.spawn(config.module, init, {
          message: (message) => {
            if (!isPoolMessage(message)) return;
            const m = message as FromWorker;
            if (m.corral === "ready") settle(undefined, m.port);
            else if (m.corral === "failed") {
              const cause = errorFromData(m.error);
              settle(new WorkerError(id, `worker ${id} failed to start: ${describeError(cause)}`, { cause }));
              void thread.terminate();
            } else if (m.corral === "info") this.#infoRequests.get(m.request)?.(m.listeners);
            else if (m.corral === "stopped") this.#stopAnswered?.();
          },
          exit: (code, error) => {
            const why = error === undefined ? "" : `: ${describeError(error)}`;
            const message = `worker ${id} exited with code ${code} before it reported ready${why}`;
            settle(new WorkerError(id, message, { cause: error }));
            this.#ended(thread, code, error);
          },
        });
      } catch (error) {
        clearTimeout(timer);
        reject(error);
        return;
      }
      this.#thread = thread;
    });
  }

  /** A thread ended: a crash to recover from while running; expected while stopping. */
  #ended(thread: Thread, code: number, error: unknown): void {
    if (thread !== this.#thread) return;
    this.#thread = undefined;
    for (const answer of [...this.#infoRequests.values()]) answer(undefined);
    this.#stopAnswered?.();
    if (this.#status !== "running") return; // a start in flight: its caller sees the rejection
    if (Date.now() - this.#readyAt >= STABLE_AFTER) this.#crashes = 0;
    const how = this.#killed
      ? "was killed"
      : `crashed (exit code ${code}${error === undefined ? "" : `: ${describeError(error)}`})`;
    this.#killed = false;
    this.#restartLater(how, error);
  }

  #restartLater(what: string, error: unknown): void {
    const delay = Math.min(MAX_DELAY, FIRST_DELAY * 2 ** this.#crashes);
    this.#crashes++;
    this.#status = "restarting";
    const details = error === undefined ? [] : [error];
    this.#config.logger.error(`corral: [workers] worker ${this.id} ${what}; restarting in ${delay} ms`, ...details);
    this.#timer = setTimeout(() => void this.#restart(), delay);
  }

  async #restart(): Promise<void> {
    this.#timer = undefined;
    this.#restarts++;
    try {
      await (this.#attempt = this.#launch());
    } catch (error) {
      this.#killed = false;
      // stop() came during the start: it takes over.
      if (this.#status === "stopping" || this.#status === "stopped") return;
      this.#restartLater(`failed to restart (${describeError(error)})`, error);
      return;
    }
    if (this.#status !== "starting") return;
    this.#running();
    this.#config.logger.info(`corral: [workers] worker ${this.id} restarted (restart ${this.#restarts})`);
  }
}
