/**
 * One direction of a faulty in-memory connection: the bytes one end wrote
 * and the other has not received yet. It splits writes (`fragment`), merges
 * them (`coalesce`) and holds them back (`latency`), always in order, drawing
 * every size and delay from its own seeded generator.
 *
 * @module
 */
import type { Scheduler } from "./scheduler.ts";
import type { SeededRandom } from "./seeded_random.ts";

/** How one direction misbehaves. */
export interface WireFaults {
  /** Largest piece a write is split into; `undefined`: writes stay whole. */
  fragmentMax: number | undefined;
  /** Merge the writes waiting for delivery into one read. */
  coalesce: boolean;
  /** Delay range in ms for each piece; `undefined`: none. */
  latency: { min: number; max: number } | undefined;
  scheduler: Scheduler;
}

/** Where a wire hands its bytes: the receiving end of the connection. */
export interface WireReceiver {
  /** Takes one piece; false when the connection is gone and the wire must stop. */
  receive(piece: Uint8Array): boolean;
  /** The writer's end-of-stream, after its last byte. */
  receiveEnd(): void;
  /** A batch of pieces arrived (in-flight bytes went down): wake a waiting writer if there is room now. */
  settled(): void;
}

/** `null` marks the writer's end of stream in the queue. */
interface InFlight {
  chunk: Uint8Array | null;
  due: number;
}

/** The bytes in flight in one direction. */
export class FaultyWire {
  #faults: WireFaults;
  #random: SeededRandom;
  #receiver: WireReceiver;
  #deferred: boolean;
  #queue: InFlight[] = [];
  #inFlight = 0;
  #lastDue = -Infinity;
  #cancelTimer: (() => void) | undefined;
  #stopped = false;

  constructor(faults: WireFaults, random: SeededRandom, receiver: WireReceiver) {
    this.#faults = faults;
    this.#random = random;
    this.#receiver = receiver;
    this.#deferred = faults.coalesce || faults.latency !== undefined;
  }

  /** Bytes written and not delivered yet; they count against the receiver's window. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Carries `chunk` (which the wire now owns) to the receiver. */
  write(chunk: Uint8Array): void {
    if (this.#stopped) return;
    if (!this.#deferred) {
      // Fragmentation alone needs no timer: the pieces arrive at once, as separate reads.
      this.#deliver(this.#split(chunk));
      return;
    }
    // Coalesced bytes are split when they leave, so pieces may straddle writes.
    for (const piece of this.#faults.coalesce ? [chunk] : this.#split(chunk)) this.#enqueue(piece);
  }

  /** Sends end-of-stream after the bytes in flight. */
  end(): void {
    if (this.#stopped) return;
    if (this.#deferred) this.#enqueue(null);
    else this.#receiver.receiveEnd();
  }

  /** Drops whatever is in flight (the connection was reset) and cancels the pending delivery. */
  stop(): void {
    this.#stopped = true;
    this.#queue = [];
    this.#inFlight = 0;
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
  }

  #split(chunk: Uint8Array): Uint8Array[] {
    const max = this.#faults.fragmentMax;
    if (max === undefined) return [chunk];
    const pieces: Uint8Array[] = [];
    for (let offset = 0; offset < chunk.length;) {
      const size = this.#random.integer(1, max);
      pieces.push(chunk.subarray(offset, offset + size));
      offset += size;
    }
    return pieces;
  }

  #enqueue(chunk: Uint8Array | null): void {
    const { latency, scheduler } = this.#faults;
    const delay = latency === undefined ? 0 : this.#random.integer(latency.min, latency.max);
    // A piece never overtakes the one before it: TCP delivers in order.
    const due = Math.max(this.#lastDue, scheduler.now() + delay);
    this.#lastDue = due;
    this.#queue.push({ chunk, due });
    if (chunk !== null) this.#inFlight += chunk.length;
    this.#arm();
  }

  #arm(): void {
    if (this.#cancelTimer !== undefined || this.#queue.length === 0 || this.#stopped) return;
    const scheduler = this.#faults.scheduler;
    const wait = Math.max(0, Math.ceil(this.#queue[0]!.due - scheduler.now()));
    this.#cancelTimer = scheduler.schedule(wait, () => {
      this.#cancelTimer = undefined;
      this.#arrive();
    });
  }

  /** Delivers everything that is due, merging it first when coalescing. */
  #arrive(): void {
    const now = this.#faults.scheduler.now();
    const queue = this.#queue;
    let count = 0;
    while (count < queue.length && queue[count]!.due <= now) count++;
    const due = queue.splice(0, count);
    const pieces: Uint8Array[] = [];
    let ended = false;
    for (let i = 0; i < due.length;) {
      const chunk = due[i]!.chunk;
      if (chunk === null) {
        ended = true;
        break;
      }
      if (!this.#faults.coalesce) {
        pieces.push(chunk);
        i++;
        continue;
      }
      let end = i;
      while (end < due.length && due[end]!.chunk !== null) end++;
      pieces.push(...this.#split(concat(due.slice(i, end).map((entry) => entry.chunk!))));
      i = end;
    }
    for (const piece of pieces) this.#inFlight -= piece.length;
    if (!this.#deliver(pieces)) return;
    if (ended) this.#receiver.receiveEnd();
    this.#arm();
  }

  #deliver(pieces: Uint8Array[]): boolean {
    for (const piece of pieces) {
      if (this.#stopped || !this.#receiver.receive(piece)) return false;
    }
    this.#receiver.settled();
    return !this.#stopped;
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
