/**
 * What the raw RESP twins (raw_resp_node.ts, raw_resp_deno.ts,
 * raw_resp_bun.ts) share with each other: the parser of
 * examples/resp_protocol.ts, a leftover buffer of their own (raw sockets
 * cannot put bytes back) and the replies of a batch joined into one buffer,
 * as Corral's `sendv()` does, for one write per batch.
 *
 * @module
 */
import { execute, RespStore } from "../../examples/resp_protocol.ts";

export const store = new RespStore();

/** One connection's parse state: the bytes of an incomplete command, and the reply list reused per batch. */
export class RespConnection {
  pending: Uint8Array | undefined;
  readonly replies: Uint8Array[] = [];
  /** The client sent QUIT or broke the protocol: close after writing the replies. */
  close = false;

  /**
   * Parses `chunk` (after any pending bytes); returns the batch's replies as
   * one buffer, or undefined when there are none. `copyRest`: the reader
   * reuses `chunk`'s memory, so an incomplete command must be copied out.
   */
  feed(chunk: Uint8Array, copyRest: boolean): Uint8Array | undefined {
    const pending = this.pending;
    let batch = chunk;
    if (pending !== undefined) {
      batch = new Uint8Array(pending.length + chunk.length);
      batch.set(pending);
      batch.set(chunk, pending.length);
      copyRest = false; // the joined batch is this connection's own
    }
    const { used, close } = execute(batch, store, this.replies);
    this.close = close;
    this.pending = used >= batch.length ? undefined : copyRest ? batch.slice(used) : batch.subarray(used);
    return this.replies.length === 0 ? undefined : this.#join();
  }

  #join(): Uint8Array {
    const replies = this.replies;
    let total = 0;
    for (const reply of replies) total += reply.length;
    const out = new Uint8Array(total);
    let offset = 0;
    for (const reply of replies) {
      out.set(reply, offset);
      offset += reply.length;
    }
    replies.length = 0;
    return out;
  }
}
