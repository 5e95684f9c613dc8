/**
 * The two ends of an in-memory connection. Each end keeps an inbox of bytes
 * its peer wrote that its socket has not been handed yet, and hands them
 * over a window at a time: its socket never holds more than `window` bytes
 * that no read has asked for, so a write larger than the window reaches the
 * reader in window-sized pieces, as it takes them, and no `recv(0)` returns
 * more than the window. A writer waits while its peer has not taken more
 * than the writer's own window (its high-water mark): in flight, in the
 * inbox, or in the socket unasked for.
 *
 * With fault options set, each direction's bytes travel through a
 * `FaultyWire` (fragmented, coalesced, delayed) before they reach the inbox,
 * and bytes in flight count against the window too. Without them nothing of
 * that exists: a write goes straight to the peer's inbox, with one copy and
 * no timer.
 *
 * @module
 */
import type { ByteChannel, ChannelSink } from "../../src/socket/byte_channel.ts";
import type { Address } from "../../src/transport.ts";
import type { ConnectionFaults } from "./faults.ts";
import type { FaultyWire, WireReceiver } from "./_wire.ts";

/** One end of an in-memory connection. */
export class MemoryChannel implements ByteChannel {
  readonly localAddress: Address;
  readonly remoteAddress: Address;
  /**
   * The window is kept here, so the socket pauses as soon as it holds a
   * byte: its `resume()` then means the reader emptied it or waits for more.
   */
  readonly readHighWaterMark = 1;
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
  // Only with fault options: what both ends share, and this end's outgoing bytes in flight.
  #faults: ConnectionFaults | undefined;
  #outgoing: FaultyWire | undefined;
  #writeRefused = false; // halfClose: false closed this sending side when the peer half-closed

  private constructor(local: Address, remote: Address, window: number) {
    this.localAddress = local;
    this.remoteAddress = remote;
    this.#window = window;
  }

  /**
   * Makes a connected pair: `[client, server]`, each with its own receive
   * window, and with `faults` on both directions when given.
   */
  static pair(
    name: string,
    clientWindow: number,
    serverWindow: number,
    faults?: ConnectionFaults,
  ): [MemoryChannel, MemoryChannel] {
    const client = new MemoryChannel({ name: "" }, { name }, clientWindow);
    const server = new MemoryChannel({ name }, { name: "" }, serverWindow);
    client.#peer = server;
    server.#peer = client;
    if (faults !== undefined) {
      client.#faults = server.#faults = faults;
      client.#outgoing = faults.wire(0, server.#wireReceiver());
      server.#outgoing = faults.wire(1, client.#wireReceiver());
    }
    return [client, server];
  }

  start(sink: ChannelSink): void {
    this.#sink = sink;
    this.#handOver();
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#handOver();
  }

  write(chunk: Uint8Array): boolean {
    const peer = this.#peer;
    if (this.#closed) return true;
    if (this.#writeEnded) {
      if (this.#writeRefused) this.#reset("EPIPE", "the connection was closed: half-close is off (halfClose: false)");
      return true;
    }
    if (peer.#closed) {
      this.#reset("EPIPE", "the peer closed the connection");
      return true;
    }
    // A copy, as a kernel makes one: the writer may reuse its buffer.
    const wire = this.#outgoing;
    if (wire === undefined) peer.#receive(chunk.slice());
    else {
      wire.write(chunk.slice());
      if (this.#closed) return true; // the write reached the reset point
    }
    if (peer.#untaken() <= this.#window) return true;
    peer.#peerWaitsForDrain = true;
    return false;
  }

  end(): void {
    if (this.#writeEnded) return;
    this.#writeEnded = true;
    if (this.#outgoing !== undefined) this.#outgoing.end();
    else {
      const peer = this.#peer;
      peer.#inboxEnded = true;
      peer.#handOver();
    }
    this.#closeIfBothEnded();
  }

  close(): void {
    if (this.#closed) return;
    this.end();
    this.#closed = true;
    // Bytes the peer sent that nobody will read: TCP answers with a reset.
    const incoming = this.#peer.#outgoing;
    const peerLosesData = this.#inboxBytes > 0 || this.#peerWaitsForDrain ||
      (incoming !== undefined && incoming.inFlight > 0);
    this.#inbox = [];
    this.#inboxBytes = 0;
    if (peerLosesData) this.#peer.#reset("ECONNRESET", "the peer closed with unread data");
    else if (this.#peer.#closed) {
      // Both ends are closed: whatever is still in flight has no reader, and no timer should outlive it.
      this.#outgoing?.stop();
      incoming?.stop();
    }
    const sink = this.#sink;
    queueMicrotask(() => sink?.onClose());
  }

  destroy(): void {
    // An abortive close drops bytes still in flight, and the peer learns it by a reset.
    if (!this.#closed && this.#outgoing !== undefined && this.#outgoing.inFlight > 0) {
      this.#outgoing.stop();
      this.#peer.#reset("ECONNRESET", "the peer destroyed the connection with bytes in flight");
    }
    this.close();
  }

  /** No network, so TCP options have nothing to change. */
  setNoDelay(): void {}

  /** No network, so TCP options have nothing to change. */
  setKeepAlive(): void {}

  #receive(chunk: Uint8Array): void {
    if (this.#closed) return;
    this.#inbox.push(chunk);
    this.#inboxBytes += chunk.length;
    this.#handOver();
  }

  /**
   * Hands the inbox to the socket, at most a window of unasked-for bytes at
   * a time, then end of stream once the inbox is empty. The socket pauses
   * when it holds bytes nobody waits for; it resumes when they are taken or
   * a read wants more, and this runs again.
   */
  #handOver(): void {
    const sink = this.#sink;
    if (sink === undefined || this.#flushing || this.#closed) return;
    this.#flushing = true;
    while (!this.#paused && this.#inboxBytes > 0 && !this.#closed) {
      // Not paused means empty or read from (room for a whole window), or bytes left over from a
      // read that took part of a piece: then the rest of the window. Always at least one byte, so
      // the socket pauses and calls resume() again instead of both sides waiting on each other.
      sink.onData(this.#takeInbox(Math.max(1, this.#window - sink.unclaimedBytes)));
    }
    this.#flushing = false;
    this.#drainPeer();
    if (this.#inboxEnded && this.#inboxBytes === 0 && !this.#endDelivered && !this.#closed) {
      this.#endDelivered = true;
      sink.onEnd();
      this.#closeIfBothEnded();
    }
  }

  /** Removes up to `max` bytes from the front of the inbox: one write's bytes, cut at `max`. */
  #takeInbox(max: number): Uint8Array {
    const first = this.#inbox[0]!;
    let piece = first;
    if (first.length <= max) this.#inbox.shift();
    else {
      piece = first.subarray(0, max);
      this.#inbox[0] = first.subarray(max);
    }
    this.#inboxBytes -= piece.length;
    return piece;
  }

  /** What this end has not taken of what its peer wrote: in flight, in the inbox, in the socket unasked for. */
  #untaken(): number {
    return (this.#peer.#outgoing?.inFlight ?? 0) + this.#inboxBytes + (this.#sink?.unclaimedBytes ?? 0);
  }

  /** Like a TCP socket, an end closes once both directions have ended (end of stream sent and received). */
  #closeIfBothEnded(): void {
    // halfClose: false models a peer FIN that tears the connection down: its own path reports that.
    if (!this.#writeEnded || !this.#endDelivered || this.#closed || this.#writeRefused) return;
    this.#closed = true;
    const sink = this.#sink;
    queueMicrotask(() => sink?.onClose());
  }

  /** Tells a writer waiting for room that there is some: what this end has not taken is within its window. */
  #drainPeer(): void {
    if (!this.#peerWaitsForDrain || this.#untaken() > this.#peer.#window) return;
    this.#peerWaitsForDrain = false;
    this.#peer.#sink?.onDrain();
  }

  /** How the peer's outgoing wire delivers into this end. */
  #wireReceiver(): WireReceiver {
    return {
      receive: (piece) => {
        if (this.#closed) {
          // Bytes for a socket that closed: TCP answers with a reset.
          this.#peer.#reset("ECONNRESET", "the peer closed with unread data");
          return false;
        }
        const faults = this.#faults!;
        const allowed = faults.admit(piece.length);
        if (allowed > 0) this.#receive(allowed === piece.length ? piece : piece.subarray(0, allowed));
        if (!faults.resetDue) return true;
        const error = faults.resetError();
        this.#reset("ECONNRESET", error.message, error);
        this.#peer.#reset("ECONNRESET", error.message, error);
        return false;
      },
      receiveEnd: () => {
        if (this.#closed) return;
        this.#inboxEnded = true;
        this.#handOver();
        // A network without half-close turns the peer's FIN into a full close.
        if (!this.#faults!.halfClose && !this.#writeEnded) {
          this.#writeRefused = true;
          this.end();
        }
      },
      settled: () => this.#drainPeer(),
    };
  }

  #reset(code: string, message: string, cause?: Error): void {
    if (this.#closed) return;
    const sink = this.#sink;
    // Bytes that reached this end before the reset stay readable ahead of the error, as the
    // socket's own buffer does; nothing more can arrive, so the window no longer matters.
    while (sink !== undefined && this.#inboxBytes > 0) sink.onData(this.#takeInbox(this.#window));
    this.#closed = true;
    this.#inbox = [];
    this.#inboxBytes = 0;
    // A reset connection carries nothing more either way.
    this.#outgoing?.stop();
    this.#peer.#outgoing?.stop();
    const error = cause ?? Object.assign(new Error(message), { code });
    queueMicrotask(() => {
      sink?.onError(error);
      sink?.onClose();
    });
  }
}
