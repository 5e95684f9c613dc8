/**
 * What `for await (const chunk of socket)` runs on: one small object per
 * loop, holding the socket and no closures.
 *
 * @module
 */

/** The finished iteration, shared by every socket. */
export const DONE: IteratorResult<Uint8Array> = Object.freeze({ value: undefined, done: true });

/** The iterator's way to the socket's private read: a method no user of `Socket` sees or names. */
export const NEXT_CHUNK: unique symbol = Symbol("StreamSocket.nextChunk");

/** A socket the iterator can pull from. */
export interface IterableSocket {
  [NEXT_CHUNK](): Promise<IteratorResult<Uint8Array>>;
}

/** The async iterator of a socket: each `next()` is one `recv(0)`, ending at end of stream. */
export class SocketIterator implements AsyncIterator<Uint8Array> {
  readonly #socket: IterableSocket;

  constructor(socket: IterableSocket) {
    this.#socket = socket;
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    return this.#socket[NEXT_CHUNK]();
  }

  return(): Promise<IteratorResult<Uint8Array>> {
    return Promise.resolve(DONE);
  }
}
