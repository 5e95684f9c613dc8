/**
 * The two ends of an in-memory connection. Each end keeps an inbox of bytes
 * its peer wrote but it has not taken yet; a writer whose peer's inbox holds
 * a window's worth is told to wait, exactly as a full TCP window would.
 *
 * @module
 */
import type { ByteChannel, ChannelSink } from "../src/byte_channel.ts";
import type { Address } from "../src/transport.ts";

/** One end of an in-memory connection. */
export class MemoryChannel implements ByteChannel {
  readonly localAddress: Address;
  readonly remoteAddress: Address;
  #peer!: MemoryChannel;
  #window: number;
  #sink: ChannelSink | undefined;
  #paused = false;
  #flushing = false;
  #inbox: Uint8Array[] = [];
  #inboxBytes = 0;
  #inboxEnded = false; // the peer sent end-of-stream, to deliver after the inbox
  #endDelivered = false;
  #writeEnded = false;
  #closed = false;
  #peerWaitsForDrain = false;

  private constructor(local: Address, remote: Address, window: number) {
    this.localAddress = local;
    this.remoteAddress = remote;
    this.#window = window;
  }

  /** Makes a connected pair: `[client, server]`, each with its own receive window. */
  static pair(name: string, clientWindow: number, serverWindow: number): [MemoryChannel, MemoryChannel] {
    const client = new MemoryChannel({ name: "" }, { name }, clientWindow);
    const server = new MemoryChannel({ name }, { name: "" }, serverWindow);
    client.#peer = server;
    server.#peer = client;
    return [client, server];
  }

  start(sink: ChannelSink): void {
    this.#sink = sink;
    this.#flush();
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#flush();
  }

  write(chunk: Uint8Array): boolean {
    const peer = this.#peer;
    if (this.#closed || this.#writeEnded) return true;
    if (peer.#closed) {
      this.#reset("EPIPE", "the peer closed the connection");
      return true;
    }
    // A copy, as a kernel makes one: the writer may reuse its buffer.
    peer.#receive(chunk.slice());
    if (peer.#inboxBytes < peer.#window) return true;
    peer.#peerWaitsForDrain = true;
    return false;
  }

  end(): void {
    if (this.#writeEnded) return;
    this.#writeEnded = true;
    const peer = this.#peer;
    peer.#inboxEnded = true;
    peer.#flush();
  }

  close(): void {
    if (this.#closed) return;
    this.end();
    this.#closed = true;
    // Bytes the peer sent that nobody will read: TCP answers with a reset.
    const peerLosesData = this.#inboxBytes > 0 || this.#peerWaitsForDrain;
    this.#inbox = [];
    this.#inboxBytes = 0;
    if (peerLosesData) this.#peer.#reset("ECONNRESET", "the peer closed with unread data");
    const sink = this.#sink;
    queueMicrotask(() => sink?.onClose());
  }

  destroy(): void {
    this.close();
  }

  /** No network, so TCP options have nothing to change. */
  setNoDelay(): void {}

  /** No network, so TCP options have nothing to change. */
  setKeepAlive(): void {}

  #receive(chunk: Uint8Array): void {
    if (this.#closed) return;
    if (!this.#paused && this.#inboxBytes === 0 && this.#sink !== undefined && !this.#flushing) {
      this.#sink.onData(chunk);
      return;
    }
    this.#inbox.push(chunk);
    this.#inboxBytes += chunk.length;
  }

  #flush(): void {
    const sink = this.#sink;
    if (sink === undefined || this.#flushing || this.#closed) return;
    this.#flushing = true;
    while (!this.#paused && this.#inbox.length > 0) {
      const chunk = this.#inbox.shift()!;
      this.#inboxBytes -= chunk.length;
      sink.onData(chunk);
    }
    this.#flushing = false;
    if (this.#peerWaitsForDrain && this.#inboxBytes < this.#window) {
      this.#peerWaitsForDrain = false;
      this.#peer.#sink?.onDrain();
    }
    if (this.#inboxEnded && this.#inbox.length === 0 && !this.#endDelivered) {
      this.#endDelivered = true;
      sink.onEnd();
    }
  }

  #reset(code: string, message: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#inbox = [];
    this.#inboxBytes = 0;
    const sink = this.#sink;
    const error = Object.assign(new Error(message), { code });
    queueMicrotask(() => {
      sink?.onError(error);
      sink?.onClose();
    });
  }
}
