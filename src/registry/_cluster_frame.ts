/**
 * The bytes of one broadcast on the broker: a version byte, the sending
 * node's id (length-prefixed) and the payload. The node id lets every node
 * skip its own broadcasts, which the broker also hands back to it.
 *
 * @module
 */

const VERSION = 1;
const HEADER = 2;

/** A random node id: 12 bytes (96 bits), so two nodes never share one. */
export function newNodeId(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(12));
}

/** `payload` framed with `node`: one allocation, one copy of the payload. */
export function encodeFrame(node: Uint8Array, payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(HEADER + node.length + payload.length);
  frame[0] = VERSION;
  frame[1] = node.length;
  frame.set(node, HEADER);
  frame.set(payload, HEADER + node.length);
  return frame;
}

/**
 * The payload of `frame` (a view, no copy) when another node sent it;
 * `null` when `node` sent it; `undefined` when it is not a frame at all.
 */
export function decodeFrame(node: Uint8Array, frame: Uint8Array): Uint8Array | null | undefined {
  if (frame.length < HEADER || frame[0] !== VERSION) return undefined;
  const idLength = frame[1]!;
  const start = HEADER + idLength;
  if (frame.length < start) return undefined;
  if (idLength === node.length) {
    let same = true;
    for (let i = 0; i < idLength && same; i++) same = frame[HEADER + i] === node[i];
    if (same) return null;
  }
  return frame.subarray(start);
}
