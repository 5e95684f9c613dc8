/**
 * Shared test pieces: the transports the conformance suite loops over,
 * protocols, a recording logger and event-based waiting helpers.
 *
 * @module
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type Connection,
  listen,
  type Listener,
  type ListenOptions,
  type Logger,
  memory,
  type MemoryOptions,
  type Socket,
  tcp,
  type Transport,
  unix,
} from "../mod.ts";

/** One transport as the conformance suite uses it. */
export interface TransportFixture {
  name: string;
  /** Whether its sockets are encrypted (default false). */
  secure?: boolean;
  /** A fresh listen transport (a free port, path or name). */
  make(): Transport;
  /** Connects a client to a listener made with `make()`. */
  connect(listener: Listener<unknown>): Promise<Socket>;
  /** Why a conformance case cannot run on this fixture here (a runtime limit), or `undefined` to run it. */
  skip?(caseName: string): string | undefined;
}

let unixCounter = 0;

/** A socket path unique to this process and call. */
export function socketPath(): string {
  return join(tmpdir(), `corral-${globalThis.process.pid}-${unixCounter++}.sock`);
}

/** Every transport the conformance suite runs over. */
export const transports: TransportFixture[] = [
  {
    name: "tcp",
    make: () => tcp({ host: "127.0.0.1", port: 0 }),
    connect: (l) => tcp().connect({ host: "127.0.0.1", port: l.port! }),
  },
  {
    name: "tcp6",
    make: () => tcp({ host: "::1", port: 0 }),
    connect: (l) => tcp().connect({ host: "::1", port: l.port! }),
  },
  {
    name: "unix",
    make: () => unix({ path: socketPath() }),
    connect: (l) => unix().connect({ path: (l.address as { path: string }).path }),
  },
  {
    name: "memory",
    make: () => memory(),
    connect: (l) => memory().connect({ name: (l.address as { name: string }).name }),
  },
];

/** The name a memory listener listens under. */
export const nameOf = (listener: { address: unknown }): string => (listener.address as { name: string }).name;

/** A memory fixture whose listener injects the given faults (a fresh seed-fixed set per listener). */
export function faultyMemory(label: string, options: () => MemoryOptions): TransportFixture {
  return {
    name: `memory ${label}`,
    make: () => memory(options()),
    connect: (listener) => memory().connect({ name: nameOf(listener) }),
  };
}

/** The tcp fixture, for listener tests that need a real socket. */
export const tcpFixture: TransportFixture = transports[0]!;

/** Echoes every byte until the peer ends its stream (the seeds' tcp_echo). */
export async function echo(conn: Connection): Promise<void> {
  const socket = await conn.handshake();
  for (;;) {
    const chunk = await socket.recv(0);
    if (chunk === null) return;
    await socket.send(chunk);
  }
}

/** Echo by async iteration (Ranch's active mode). */
export async function activeEcho(conn: Connection): Promise<void> {
  const socket = await conn.handshake();
  for await (const chunk of socket) await socket.send(chunk);
}

/** Holds the connection until the peer closes or the listener stops. */
export async function idle(conn: Connection): Promise<void> {
  const socket = await conn.handshake();
  await socket.recv(0).catch(() => null);
}

/** A logger that keeps every line, for assertions. */
export class RecordingLogger implements Logger {
  lines: { level: string; message: string; details: unknown[] }[] = [];
  debug(message: string, ...details: unknown[]): void {
    this.lines.push({ level: "debug", message, details });
  }
  info(message: string, ...details: unknown[]): void {
    this.lines.push({ level: "info", message, details });
  }
  warn(message: string, ...details: unknown[]): void {
    this.lines.push({ level: "warn", message, details });
  }
  error(message: string, ...details: unknown[]): void {
    this.lines.push({ level: "error", message, details });
  }
  at(level: string): string[] {
    return this.lines.filter((line) => line.level === level).map((line) => line.message);
  }
}

/** `listen()` with a quiet logger unless one is given. */
export function start<P>(options: ListenOptions<P>): Promise<Listener<P>> {
  return listen({ logger: new RecordingLogger(), ...options });
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** UTF-8 bytes of a string. */
export const bytes = (text: string): Uint8Array => encoder.encode(text);
/** A string from UTF-8 bytes. */
export const text = (data: Uint8Array | null): string | null => (data === null ? null : decoder.decode(data));

/** Sends `data` and reads back exactly as many bytes. */
export async function roundTrip(socket: Socket, data: string): Promise<string | null> {
  await socket.send(data);
  return text(await socket.recv(encoder.encode(data).length, { timeout: 5000 }));
}

/** Whether `promise` is still pending once already-queued reactions have run. */
export async function isPending(promise: Promise<unknown>): Promise<boolean> {
  const marker = {};
  const first = await Promise.race([promise.then(() => null, () => null), Promise.resolve(marker)]);
  return first === marker;
}

/** Resolves on the next macrotask turn (lets I/O callbacks run). */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** A promise with its resolve function, to signal between a test and a protocol. */
export function signal<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((res) => (resolve = res));
  return { promise, resolve };
}

/** Deterministic pseudo-random bytes (xorshift), so failures replay. */
export function pattern(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Reads until end of stream and returns everything. */
export async function readAll(socket: Socket): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of socket) chunks.push(chunk);
  return concatBytes(chunks);
}

/** The bytes of `parts`, one after another, in a new array (an array argument: a stream may have many chunks). */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((length, part) => length + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Whether two byte arrays hold the same bytes. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Re-checks a condition on each timer turn, for state that no event
 * reports (counters after a close); fails after `turns` turns.
 */
export async function waitFor(condition: () => boolean, turns = 5000): Promise<void> {
  for (let i = 0; i < turns; i++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  throw new Error(`condition not met: ${condition}`);
}

/**
 * `socket` behind a plain object with only the members a custom transport
 * written before the framing reads (readAvailable, unshift, bytesBuffered,
 * sendv) would have.
 */
export function plainSocket(socket: Socket): Socket {
  return {
    recv: (length, options) => socket.recv(length, options),
    send: (data) => socket.send(data),
    sendfile: (file, options) => socket.sendfile(file, options),
    shutdown: (how) => socket.shutdown(how),
    close: () => socket.close(),
    destroy: () => socket.destroy(),
    get closed() {
      return socket.closed;
    },
    setOptions: (options) => socket.setOptions(options),
    peername: () => socket.peername(),
    sockname: () => socket.sockname(),
    get readable() {
      return socket.readable;
    },
    get writable() {
      return socket.writable;
    },
    secure: socket.secure,
    tls: socket.tls,
    [Symbol.asyncIterator]: () => socket[Symbol.asyncIterator](),
  } as Socket;
}

/** tcp on 127.0.0.1 whose handshake hands the protocol a `plainSocket()`: a custom transport's socket, not one of Corral's own. */
export function plainTcp(): Transport {
  const plain = tcp({ host: "127.0.0.1", port: 0 });
  const wrapping: Transport = {
    name: "tcp (plain sockets)",
    secure: false,
    options: plain.options,
    withOptions: () => wrapping,
    listen: (hints) => plain.listen(hints),
    connect: (options) => plain.connect(options as { port: number }),
    handshake: (socket: Socket) => Promise.resolve(plainSocket(socket)),
  };
  return wrapping;
}
