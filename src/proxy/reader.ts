/**
 * Takes a PROXY header off the front of a socket for `conn.handshake()`.
 *
 * It reads exactly as many bytes as the parser says are still missing
 * (`needMore`), so not one byte after the header is consumed: whatever
 * followed it (the protocol's first bytes, or a TLS ClientHello) is still
 * in the same socket, whether it came in the header's packet or later.
 * While the signature is unconfirmed it reads only up to the signature's
 * end, so a client that sends no header is refused at once.
 *
 * @module
 */
import { ClosedError, ProxyHeaderError, TimeoutError } from "../errors.ts";
import { StreamSocket } from "../socket/stream_socket.ts";
import { PrefixedSocket } from "./_prefixed_socket.ts";
import { parseProxyHeader, PROXY_MIN_LENGTH, type ProxyHeader } from "./proxy_header.ts";
import type { Socket } from "../transport.ts";

/** How the listener reads headers (the checked `proxyHeader` option). */
export interface ProxyHeaderReading {
  /** Ms for the whole header; `Infinity` for no limit. */
  timeout: number;
  /** When false, a connection that starts without a PROXY signature goes on without a header. */
  required: boolean;
}

/** The header (if any) and the socket the protocol reads from next. */
export interface ProxyHeaderRead {
  header: ProxyHeader | undefined;
  socket: Socket;
}

const V1_SIGNATURE_LENGTH = 6; // "PROXY "
const V2_SIGNATURE_LENGTH = 12;
/** Fits any v1 header and the usual v2 ones (addresses and a few TLVs). */
const INITIAL_BUFFER = 256;

/** Reads the header; throws `ProxyHeaderError` for a bad, missing, late or cut-off header. */
export async function readProxyHeader(socket: Socket, reading: ProxyHeaderReading): Promise<ProxyHeaderRead> {
  const deadline = reading.timeout === Infinity ? Infinity : performance.now() + reading.timeout;
  // One buffer per header, grown only for a long v2 header: small typed arrays are
  // costly to allocate on Deno, and a read may come in many pieces.
  let buffer = new Uint8Array(INITIAL_BUFFER);
  let have = 0;
  let needMore = PROXY_MIN_LENGTH;
  for (;;) {
    const signatureLength = have > 0 && buffer[0] === 0x50 ? V1_SIGNATURE_LENGTH : V2_SIGNATURE_LENGTH;
    const confirmed = have >= signatureLength;
    // Unconfirmed: a required header takes at most the signature's rest; an optional one goes
    // byte by byte, so at end of stream every byte it took can be given back.
    const step = confirmed
      ? needMore
      : reading.required
      ? Math.min(needMore, have === 0 ? 1 : signatureLength - have)
      : 1;
    const chunk = await receive(socket, step, deadline, reading.timeout, have);
    if (chunk === null) {
      if (!reading.required && !confirmed) return withoutHeader(socket, buffer, have);
      throw truncated(have);
    }
    if (have + chunk.length > buffer.length) {
      const grown = new Uint8Array(Math.max(2 * buffer.length, have + chunk.length));
      grown.set(buffer.subarray(0, have));
      buffer = grown;
    }
    buffer.set(chunk, have);
    have += chunk.length;
    let result;
    try {
      result = parseProxyHeader(buffer.subarray(0, have));
    } catch (error) {
      const noSignature = error instanceof ProxyHeaderError && error.code === "EPROXY_SIGNATURE";
      if (noSignature && !reading.required) return withoutHeader(socket, buffer, have);
      throw error;
    }
    if (result.header !== undefined) return { header: result.header, socket };
    needMore = result.needMore;
  }
}

async function receive(
  socket: Socket,
  length: number,
  deadline: number,
  timeout: number,
  have: number,
): Promise<Uint8Array | null> {
  const left = deadline - performance.now();
  if (left <= 0) throw late(timeout, have);
  try {
    return await socket.recv(length, deadline === Infinity ? undefined : { timeout: Math.ceil(left) });
  } catch (error) {
    if (error instanceof TimeoutError) throw late(timeout, have);
    // A short read at end of stream, or a reset.
    if (error instanceof ClosedError) throw truncated(have, error);
    throw error;
  }
}

function late(timeout: number, have: number): ProxyHeaderError {
  return new ProxyHeaderError(
    "EPROXY_TIMEOUT",
    `no complete PROXY header within ${timeout} ms (${have} byte(s) of it received)`,
  );
}

function truncated(have: number, cause?: unknown): ProxyHeaderError {
  return new ProxyHeaderError(
    "EPROXY_TRUNCATED",
    `the connection ended before a complete PROXY header (${have} byte(s) of it received)`,
    { cause },
  );
}

/**
 * No header: the bytes looked at go back in front of the stream, into the
 * socket itself when it can take them (every transport's socket can), so
 * the protocol and the transport's handshake see the very socket accepted.
 */
function withoutHeader(socket: Socket, buffer: Uint8Array, have: number): ProxyHeaderRead {
  const looked = buffer.slice(0, have);
  if (socket instanceof StreamSocket) {
    socket.unshift(looked);
    return { header: undefined, socket };
  }
  return { header: undefined, socket: new PrefixedSocket(socket, looked) };
}
