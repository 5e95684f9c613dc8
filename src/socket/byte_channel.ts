/**
 * The one small interface a runtime adapter implements per connection.
 * `StreamSocket` builds the whole `Socket` contract (buffered `recv`,
 * awaited `send`, iteration, Web Streams) on top of it, so every runtime and
 * the memory transport share one implementation of the socket semantics.
 *
 * @module
 */
import type { Address } from "../transport.ts";

/** Receives what happens on a channel. Every method is called synchronously by the adapter. */
export interface ChannelSink {
  /** Bytes arrived. The sink owns `chunk` from now on. */
  onData(chunk: Uint8Array): void;
  /** The peer ended its sending direction (end of stream). */
  onEnd(): void;
  /** Queued outgoing bytes fell under the high-water mark again. */
  onDrain(): void;
  /** The connection failed (reset, broken pipe ...); `onClose` follows. */
  onError(error: unknown): void;
  /** Both directions are closed and the resources are released. */
  onClose(): void;
  /**
   * Bytes received that no pending read has asked for yet (0 while a read
   * waits). The memory transport reads it to keep its window exact; the
   * runtime adapters never need it.
   */
  readonly unclaimedBytes: number;
}

/** One connected byte stream as a runtime adapter exposes it. */
export interface ByteChannel {
  /**
   * Bytes the socket buffers for its reader before pausing the channel.
   * Default 64 KiB; the memory transport lowers it to model small windows.
   */
  readonly readHighWaterMark?: number;
  /** Starts delivering events to `sink`. Called once, before anything else. */
  start(sink: ChannelSink): void;
  /** Stops taking bytes from the network until `resume()`. */
  pause(): void;
  /** Takes bytes from the network again. */
  resume(): void;
  /** Queues bytes; returns false when the queue is over its high-water mark (wait for `onDrain`). */
  write(chunk: Uint8Array): boolean;
  /** Sends end-of-stream once queued bytes are out; reading goes on. */
  end(): void;
  /** Flushes queued bytes, then closes both directions. */
  close(): void;
  /** Closes both directions now, dropping queued bytes. */
  destroy(): void;
  /** Sets TCP_NODELAY; a no-op where there is no TCP underneath (Unix sockets, memory). */
  setNoDelay(enable: boolean): void;
  /** Sets SO_KEEPALIVE; a no-op where there is no TCP underneath (Unix sockets, memory). */
  setKeepAlive(enable: boolean): void;
  /** The local endpoint. */
  readonly localAddress: Address;
  /** The remote endpoint. */
  readonly remoteAddress: Address;
}
