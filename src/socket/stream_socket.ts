/**
 * The `Socket` contract implemented once over a `ByteChannel`: every runtime
 * adapter and the memory transport hand their channels to this class. The
 * read side (buffer, `recv`, push mode) is `SocketReader`; this adds the
 * write side and the socket's life.
 *
 * The hot path is allocation-light on purpose: `send` returns one shared
 * resolved promise while the channel is under its high-water mark, and the
 * `closed` promise, the drain promise and the stream views are made when
 * first needed.
 *
 * @module
 */
import type { ByteChannel, ChannelSink } from "./byte_channel.ts";
import { ClosedError, systemErrorCode } from "../errors.ts";
import type {
  Address,
  RecvOptions,
  SendfileOptions,
  ShutdownHow,
  Socket,
  SocketOptions,
  TlsInfo,
} from "../transport.ts";
import { readableView, writableView } from "./stream_views.ts";
import { sendFile } from "./_send_file.ts";
import { gather } from "./_gather.ts";
import { NEXT_CHUNK, SocketIterator } from "./_socket_iterator.ts";
import { capture, type Reject, type Resolve, takeReject, takeResolve } from "./_pending_promise.ts";
import {
  CLOSED,
  CLOSING,
  DRAIN_HELD,
  ENDED,
  PAUSED,
  PUSHING,
  READ_SHUT,
  WAIT_ALL,
  WAIT_ITERATE,
  WRITE_SHUT,
} from "./_socket_flags.ts";
import { SocketReader } from "./_socket_reader.ts";

const RESOLVED: Promise<void> = Promise.resolve();
const encoder = new TextEncoder();

function ignore(): void {}

/** A rejected promise never reported as unhandled: a `handler()` may drop what `send()` returns. */
function quietRejection(error: unknown): Promise<never> {
  const promise = Promise.reject(error);
  promise.catch(ignore);
  return promise;
}

/** Extra facts a transport knows about a socket it builds. */
export interface StreamSocketInit {
  /** Whether the channel is encrypted. */
  secure?: boolean;
  /** Negotiated TLS facts, for encrypted channels. */
  tls?: TlsInfo;
}

/** A {@linkcode Socket} over a runtime's {@linkcode ByteChannel}. */
export class StreamSocket extends SocketReader implements Socket, ChannelSink {
  readonly secure: boolean;
  readonly tls: TlsInfo | undefined;

  #drain: { promise: Promise<void>; resolve: Resolve; reject: Reject } | undefined;
  #closed: Promise<void> | undefined;
  #resolveClosed: Resolve | undefined;
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;
  #bytesSent = 0;
  #sendCount = 0;

  constructor(channel: ByteChannel, init?: StreamSocketInit) {
    super(channel);
    this.secure = init?.secure ?? false;
    this.tls = init?.tls;
    channel.start(this);
  }

  /** Resolves once the socket is closed, however that happened (made on first use). */
  get closed(): Promise<void> {
    if (this.#closed === undefined) {
      if ((this.flags & CLOSED) !== 0) this.#closed = RESOLVED;
      else {
        this.#closed = new Promise(capture) as Promise<void>;
        this.#resolveClosed = takeResolve();
        takeReject();
      }
    }
    return this.#closed;
  }

  /** Bytes handed to `send()` so far. */
  get bytesSent(): number {
    return this.#bytesSent;
  }

  /** `send()` calls that carried bytes so far. */
  get sendCount(): number {
    return this.#sendCount;
  }

  // ---- ChannelSink: called by the adapter (onData and onEnd are the read side's) ----

  onDrain(): void {
    const drain = this.#drain;
    this.#drain = undefined;
    drain?.resolve(undefined);
    if ((this.flags & DRAIN_HELD) !== 0) {
      this.flags &= ~DRAIN_HELD;
      this.flushPush();
    }
  }

  onError(error: unknown): void {
    if (this.error !== undefined) return;
    const code = systemErrorCode(error) ?? "ECLOSED";
    const message = error instanceof Error ? error.message : String(error);
    this.error = new ClosedError(`socket failed: ${message}`, code, { cause: error });
    this.failPending();
    const drain = this.#drain;
    this.#drain = undefined;
    drain?.reject(this.error);
  }

  onClose(): void {
    if ((this.flags & CLOSED) !== 0) return;
    this.flags |= CLOSED | ENDED;
    if ((this.flags & PUSHING) === 0) this.wakeAtEnd();
    const drain = this.#drain;
    this.#drain = undefined;
    drain?.reject(this.error ?? new ClosedError("socket closed"));
    const resolveClosed = this.#resolveClosed;
    this.#resolveClosed = undefined;
    resolveClosed?.(undefined);
    // A handler hears of the close last, when `closed` has already resolved.
    if ((this.flags & PUSHING) !== 0) this.wakeAtEnd();
  }

  // ---- Socket ----

  recv(length = 0, options?: RecvOptions): Promise<Uint8Array | null> {
    return this.read(length, options?.timeout, 0) as Promise<Uint8Array | null>;
  }

  readAvailable(minLength = 1, options?: RecvOptions): Promise<Uint8Array | null> {
    return this.read(minLength, options?.timeout, WAIT_ALL) as Promise<Uint8Array | null>;
  }

  [Symbol.asyncIterator](): AsyncIterator<Uint8Array> {
    return new SocketIterator(this);
  }

  /** What `SocketIterator.next()` calls. */
  [NEXT_CHUNK](): Promise<IteratorResult<Uint8Array>> {
    return this.read(0, undefined, WAIT_ITERATE) as Promise<IteratorResult<Uint8Array>>;
  }

  send(data: Uint8Array | string): Promise<void> {
    return this.#write(typeof data === "string" ? encoder.encode(data) : data);
  }

  sendv(chunks: readonly (Uint8Array | string)[]): Promise<void> {
    let bytes: Uint8Array;
    try {
      bytes = gather(chunks);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#write(bytes);
  }

  /** Queues `bytes` (one `send()` or one `sendv()` batch) on the channel: one write. */
  #write(bytes: Uint8Array): Promise<void> {
    if (this.error !== undefined) return quietRejection(this.error);
    if ((this.flags & (WRITE_SHUT | CLOSING | CLOSED)) !== 0) {
      return quietRejection(new ClosedError("cannot send: the socket's sending side is closed"));
    }
    if (bytes.length === 0) return RESOLVED;
    this.#bytesSent += bytes.length;
    this.#sendCount++;
    if (this.channel.write(bytes)) return RESOLVED;
    // Push mode: nobody awaits this, so reading stops until the peer takes what is queued.
    if ((this.flags & PUSHING) !== 0) this.holdPush(DRAIN_HELD);
    if (this.#drain === undefined) {
      const promise = new Promise(capture) as Promise<void>;
      promise.catch(ignore);
      this.#drain = { promise, resolve: takeResolve(), reject: takeReject() };
    }
    return this.#drain.promise;
  }

  sendfile(file: string | URL, options?: SendfileOptions): Promise<number> {
    return sendFile(this, file, options);
  }

  shutdown(how: ShutdownHow): Promise<void> {
    if (how !== "read" && how !== "write" && how !== "read_write") {
      throw new TypeError(`shutdown(how): how must be "read", "write" or "read_write", got ${String(how)}`);
    }
    if ((how === "write" || how === "read_write") && (this.flags & (WRITE_SHUT | CLOSED)) === 0) {
      this.flags |= WRITE_SHUT;
      this.channel.end();
    }
    if ((how === "read" || how === "read_write") && (this.flags & READ_SHUT) === 0) {
      this.flags |= READ_SHUT | ENDED;
      this.dropBuffered();
      this.wakeAtEnd();
      // Keep draining the network so a writing peer is not blocked by bytes nobody will read.
      if ((this.flags & PAUSED) !== 0) {
        this.flags &= ~PAUSED;
        this.channel.resume();
      }
    }
    return RESOLVED;
  }

  close(): Promise<void> {
    if ((this.flags & (CLOSING | CLOSED)) === 0) {
      this.flags |= CLOSING;
      this.channel.close();
    }
    return this.closed;
  }

  /** Closes at once, dropping unsent bytes (the peer may see a reset). */
  destroy(): void {
    if ((this.flags & CLOSED) !== 0) return;
    this.flags |= CLOSING;
    this.channel.destroy();
  }

  setOptions(options: SocketOptions): Promise<void> {
    try {
      if (options.noDelay !== undefined) this.channel.setNoDelay(Boolean(options.noDelay));
      if (options.keepAlive !== undefined) this.channel.setKeepAlive(Boolean(options.keepAlive));
      return RESOLVED;
    } catch (error) {
      return Promise.reject(error);
    }
  }

  peername(): Address {
    return this.channel.remoteAddress;
  }

  sockname(): Address {
    return this.channel.localAddress;
  }

  get readable(): ReadableStream<Uint8Array> {
    this.#readable ??= readableView(this);
    return this.#readable;
  }

  get writable(): WritableStream<Uint8Array> {
    this.#writable ??= writableView(this);
    return this.#writable;
  }
}
