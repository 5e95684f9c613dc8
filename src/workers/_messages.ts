/**
 * What the pool and its worker threads say to each other. Every message is
 * structured-cloned, so errors and listener snapshots cross as plain data.
 *
 * The pool starts a thread with {@linkcode WorkerInit} as its data; the
 * worker's `serveWorker()` answers `ready` (or `failed`) once, then answers
 * each `info` request and, on `stop`, stops its listeners and says `stopped`.
 *
 * @module
 */
import type { ListenerInfo } from "../listener_info.ts";

/** The thread data a pool worker starts with (the key marks it as one of ours). */
export interface WorkerInit {
  corralWorker: { id: number; port: number; data: unknown };
}

/** An error as plain data. */
export interface ErrorData {
  name: string;
  message: string;
  code: string | undefined;
  stack: string | undefined;
}

/** From the pool to a worker. */
export type ToWorker = { corral: "info"; request: number } | { corral: "stop" };

/** From a worker to the pool. */
export type FromWorker =
  | { corral: "ready"; port: number | undefined }
  | { corral: "failed"; error: ErrorData }
  | { corral: "info"; request: number; listeners: ListenerInfo[] }
  | { corral: "stopped" };

/** Whether `message` is one of the pool's own (user code may post its own messages too). */
export function isPoolMessage(message: unknown): message is { corral: string } {
  return typeof message === "object" && message !== null &&
    typeof (message as { corral?: unknown }).corral === "string";
}

/** The pool data a thread was started with, or `undefined` when it was not started by a pool. */
export function workerInit(data: unknown): WorkerInit["corralWorker"] | undefined {
  const init = typeof data === "object" && data !== null ? (data as Partial<WorkerInit>).corralWorker : undefined;
  return typeof init?.id === "number" && typeof init.port === "number" ? init : undefined;
}

/** `error` as plain data (a thrown non-error becomes its string). */
export function errorData(error: unknown): ErrorData {
  if (!(error instanceof Error)) return { name: "Error", message: String(error), code: undefined, stack: undefined };
  const code = (error as { code?: unknown }).code;
  return {
    name: error.name,
    message: error.message,
    code: typeof code === "string" ? code : undefined,
    stack: error.stack,
  };
}

/** An `Error` rebuilt from plain data: its name, message, code and the worker's stack. */
export function errorFromData(data: ErrorData): Error {
  const error = new Error(data.message) as Error & { code?: string };
  error.name = data.name;
  if (data.code !== undefined) error.code = data.code;
  if (data.stack !== undefined) error.stack = data.stack;
  return error;
}

/** One line for a log or a message: `Name: message (CODE)`. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const suffix = typeof code === "string" && !error.message.includes(code) ? ` (${code})` : "";
  return `${error.name}: ${error.message}${suffix}`;
}

/**
 * A listener snapshot that survives structured cloning: transport options
 * may hold functions (an SNI callback), which become `"[function]"`.
 */
export function cloneableInfo(info: ListenerInfo): ListenerInfo {
  return { ...info, transportOptions: plain(info.transportOptions, 0) as object };
}

function plain(value: unknown, depth: number): unknown {
  if (typeof value === "function") return "[function]";
  if (typeof value !== "object" || value === null || ArrayBuffer.isView(value)) return value;
  if (depth > 4) return "[object]";
  if (Array.isArray(value)) return value.map((item) => plain(item, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, plain(item, depth + 1)]));
}
