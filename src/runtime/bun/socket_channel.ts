/**
 * A `ByteChannel` over a Bun socket (`Bun.listen` / `Bun.connect`).
 *
 * Bun's `socket.write` is unbuffered: it returns how many bytes the kernel
 * took. The rest of a chunk stays here, in a queue of the caller's chunks
 * (never copied: only bytes the kernel has not taken are referenced), and
 * is retried from the `drain` handler.
 *
 * The channel is stored in `socket.data`, so Bun's shared handlers reach it
 * without a lookup; nothing is allocated per chunk.
 *
 * @module
 */
import type { ByteChannel, ChannelSink } from "../../socket/byte_channel.ts";
import { UnsupportedError } from "../../errors.ts";
import type { Address } from "../../transport.ts";
import { inetAddress } from "../shared/inet_address.ts";
import type { BunSocket } from "./bun_types.ts";
import { runtimeName } from "./bun_types.ts";

/** Queued outgoing bytes at which `write` asks the caller to wait for `onDrain`. */
const HIGH_WATER_MARK = 64 * 1024;

// Bits of `#flags`.
/** `end()` was called: FIN follows once the queue is flushed. */
const END_REQUESTED = 1;
/** FIN was sent (`shutdown()`). */
const WRITE_SHUT = 2;
/** `close()` was called: the socket closes once the queue is flushed. */
const CLOSE_REQUESTED = 4;
/** Bun's `close` handler ran; the sink got `onClose`. */
const CLOSED = 8;
/** `write` returned false: `onDrain` is owed once the queue is under the mark. */
const NEED_DRAIN = 16;
/** The sink got `onError`. */
const ERRORED = 32;

/** Both ends' socket files of a Unix domain connection ("" for an unnamed end). */
export interface UnixEnds {
  local: string;
  remote: string;
}

/** One Bun socket as a {@linkcode ByteChannel}; `socket.data` points back to it. */
export class BunSocketChannel implements ByteChannel {
  #socket: BunSocket<BunSocketChannel>;
  #sink!: ChannelSink;
  #unix: UnixEnds | undefined;
  /** Chunks the kernel has not fully taken yet; `undefined` while nothing waits. */
  #queue: Uint8Array[] | undefined;
  /** Bytes of `#queue[0]` already written. */
  #offset = 0;
  /** Bytes waiting in `#queue`. */
  #queued = 0;
  #flags = 0;
  #local: Address | undefined;
  #remote: Address | undefined;

  /** `unix` marks a Unix domain socket and names its ends. */
  constructor(socket: BunSocket<BunSocketChannel>, unix: UnixEnds | undefined) {
    this.#socket = socket;
    this.#unix = unix;
  }

  // ---- ByteChannel ----

  start(sink: ChannelSink): void {
    this.#sink = sink;
  }

  pause(): void {
    if ((this.#flags & CLOSED) === 0) this.#socket.pause();
  }

  resume(): void {
    if ((this.#flags & CLOSED) === 0) this.#socket.resume();
  }

  write(chunk: Uint8Array): boolean {
    // The sink stops writing after end/close; the socket may still have
    // closed under us before its `close` event: nothing to send to then.
    if ((this.#flags & (CLOSED | END_REQUESTED | CLOSE_REQUESTED)) !== 0) return true;
    const length = chunk.length;
    if (this.#queue !== undefined) {
      // Bytes are already waiting: keep the order, the drain handler sends these.
      this.#queue.push(chunk);
      this.#queued += length;
    } else {
      const written = this.#socket.write(chunk, 0, length);
      if (written === length || written < 0) return true;
      this.#queue = [chunk];
      this.#offset = written;
      this.#queued = length - written;
    }
    if (this.#queued < HIGH_WATER_MARK) return true;
    this.#flags |= NEED_DRAIN;
    return false;
  }

  end(): void {
    if ((this.#flags & (CLOSED | END_REQUESTED | CLOSE_REQUESTED)) !== 0) return;
    this.#flags |= END_REQUESTED;
    if (this.#queue === undefined) this.#shutdown();
  }

  close(): void {
    if ((this.#flags & (CLOSED | CLOSE_REQUESTED)) !== 0) return;
    this.#flags |= CLOSE_REQUESTED;
    // end() closes the descriptor gracefully: the kernel still delivers what it holds.
    if (this.#queue === undefined) this.#socket.end();
  }

  destroy(): void {
    if ((this.#flags & CLOSED) !== 0) return;
    this.#queue = undefined;
    this.#queued = 0;
    this.#socket.terminate();
  }

  setNoDelay(enable: boolean): void {
    // A TCP option: meaningless on a Unix domain socket, so ignored there.
    if (this.#unix !== undefined) return;
    const socket = this.#socket;
    if (typeof socket.setNoDelay !== "function") throw new UnsupportedError("noDelay", runtimeName);
    socket.setNoDelay(enable);
  }

  setKeepAlive(enable: boolean): void {
    if (this.#unix !== undefined) return;
    const socket = this.#socket;
    if (typeof socket.setKeepAlive !== "function") throw new UnsupportedError("keepAlive", runtimeName);
    socket.setKeepAlive(enable);
  }

  // Bun forgets both addresses once the socket is closed, so each is kept
  // from its first read (as node:net does); read only after the close, it
  // is an empty address.

  get localAddress(): Address {
    const unix = this.#unix;
    if (unix !== undefined) return { path: unix.local };
    const socket = this.#socket;
    this.#local ??= inetAddress(socket.localAddress, socket.localPort, socket.localFamily);
    return this.#local;
  }

  get remoteAddress(): Address {
    const unix = this.#unix;
    if (unix !== undefined) return { path: unix.remote };
    const socket = this.#socket;
    this.#remote ??= inetAddress(socket.remoteAddress, socket.remotePort, socket.remoteFamily);
    return this.#remote;
  }

  // ---- Bun's socket events (called by the handlers in socket_handlers.ts) ----

  /** Bun's `data`: a fresh chunk the sink may keep. */
  received(chunk: Uint8Array): void {
    this.#sink.onData(chunk);
  }

  /** Bun's `drain`: the kernel takes bytes again (also fired by pause/resume). */
  drained(): void {
    const queue = this.#queue;
    if (queue === undefined) return;
    const socket = this.#socket;
    let offset = this.#offset;
    while (queue.length > 0) {
      const chunk = queue[0]!;
      const rest = chunk.length - offset;
      const written = socket.write(chunk, offset, rest);
      if (written < 0) return; // closed: the close handler follows
      this.#queued -= written;
      if (written < rest) {
        offset += written;
        break;
      }
      queue.shift(); // fully written: drop our reference
      offset = 0;
    }
    this.#offset = offset;
    if (queue.length === 0) this.#queue = undefined;
    const flags = this.#flags;
    if ((flags & NEED_DRAIN) !== 0 && this.#queued < HIGH_WATER_MARK) {
      this.#flags = flags & ~NEED_DRAIN;
      this.#sink.onDrain();
    }
    if (this.#queue === undefined) {
      if ((this.#flags & CLOSE_REQUESTED) !== 0) socket.end();
      else if ((this.#flags & END_REQUESTED) !== 0) this.#shutdown();
    }
  }

  /** Bun's `end`: the peer sent FIN; our sending side stays open (allowHalfOpen). */
  peerEnded(): void {
    this.#sink.onEnd();
  }

  /** Bun's `close`; `error` is set when the connection failed (ECONNRESET ...). */
  closed(error: Error | undefined): void {
    const flags = this.#flags;
    if ((flags & CLOSED) !== 0) return;
    this.#flags = flags | CLOSED;
    this.#queue = undefined;
    this.#queued = 0;
    if (error !== undefined && (flags & ERRORED) === 0) {
      this.#flags |= ERRORED;
      this.#sink.onError(error);
    }
    this.#sink.onClose();
  }

  /**
   * Bun's `error`: a handler threw. Reported as the connection's failure and
   * the socket is reset; returns false when the channel is closed already
   * and cannot take the error.
   */
  failed(error: Error): boolean {
    const flags = this.#flags;
    if ((flags & CLOSED) !== 0) return false;
    if ((flags & ERRORED) === 0) {
      this.#flags = flags | ERRORED;
      this.#sink.onError(error);
    }
    this.destroy();
    return true;
  }

  #shutdown(): void {
    if ((this.#flags & WRITE_SHUT) !== 0) return;
    this.#flags |= WRITE_SHUT;
    // No argument: SHUT_WR, a FIN while reading goes on.
    this.#socket.shutdown();
  }
}
