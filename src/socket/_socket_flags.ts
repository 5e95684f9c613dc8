/**
 * The state bits of a `StreamSocket`, kept in one integer field shared by
 * its read side (`SocketReader`) and its write side.
 *
 * @module
 */

// Bits of `SocketReader.flags`: one field for what would be a dozen booleans on every connection.
/** The channel was paused: the reader is behind by the high-water mark, or a push is held. */
export const PAUSED = 1;
/** No more bytes will arrive (peer EOF, read shutdown or close). */
export const ENDED = 2;
/** `shutdown("read")`: arriving bytes are dropped. */
export const READ_SHUT = 4;
/** `shutdown("write")`: the channel was ended. */
export const WRITE_SHUT = 8;
/** `close()` or `destroy()` was called. */
export const CLOSING = 16;
/** The channel reported its close. */
export const CLOSED = 32;
/** The pending read came from the async iterator: settle it with an iterator result. */
export const WAIT_ITERATE = 64;
/** Push mode: bytes go to `#push` as they arrive. */
export const PUSHING = 128;
/** Push mode: the handler holds deliveries (its `data` returned a promise). */
export const HELD = 256;
/** Push mode: a `send()` went over the high-water mark; deliveries wait for the drain. */
export const DRAIN_HELD = 512;
/** Push mode: the sink was told the stream ended. */
export const END_PUSHED = 1024;
/** Push mode: the sink was told the socket closed. */
export const CLOSE_PUSHED = 2048;
/** The pending read came from `readAvailable()`: settle it with every buffered byte. */
export const WAIT_ALL = 4096;
