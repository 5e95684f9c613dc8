/**
 * The options a connected `Socket`'s methods take, and what a TLS socket
 * negotiated. `socket_contract.ts` and `transport.ts` re-export them.
 *
 * @module
 */

/** Options that can change on a connected socket. */
export interface SocketOptions {
  /** Disable Nagle's algorithm (send small writes at once). */
  noDelay?: boolean;
  /** Enable TCP keep-alive probes. */
  keepAlive?: boolean;
}

/** Options of {@linkcode Socket.recv}. */
export interface RecvOptions {
  /** Milliseconds to wait before rejecting with `TimeoutError`. Default: no limit. */
  timeout?: number;
}

/** Which direction(s) {@linkcode Socket.shutdown} closes. */
export type ShutdownHow = "read" | "write" | "read_write";

/** Which part of the file {@linkcode Socket.sendfile} sends. */
export interface SendfileOptions {
  /** Where in the file to start, in bytes. Default 0. */
  offset?: number;
  /**
   * How many bytes to send; default: up to the file's end. `0` sends
   * nothing (unlike Ranch's `sendfile`, where 0 means "to the end").
   */
  length?: number;
}

/** What a TLS socket negotiated (filled in by the `tls` transport). */
export interface TlsInfo {
  /** Protocol version, such as `"TLSv1.3"`. */
  protocol?: string;
  /** Cipher suite name. */
  cipher?: string;
  /** The ALPN protocol both sides agreed on, if any. */
  alpnProtocol?: string;
  /** The SNI server name the client asked for, if any. */
  serverName?: string;
  /** The peer's certificate in PEM, when it sent one. */
  peerCertificate?: string;
  /**
   * Set when the stream ends (before `recv()` returns `null`): `true` when
   * the peer sent TLS close_notify, `false` when its connection just closed
   * (a truncation, which still reads as a clean end of stream). Always set
   * with `detectTruncation: true` on `tls()` or `tls().connect()`, and for
   * STARTTLS upgrades; `undefined` before the end, or where the runtime's
   * TLS does not tell the two apart.
   */
  closeNotify?: boolean;
}
