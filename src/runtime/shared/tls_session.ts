/**
 * Waiting for a `node:tls` handshake and reading what it negotiated, for
 * both sides and for any transport underneath (a raw `net.Socket` or, for
 * STARTTLS, a stream over a Corral socket).
 *
 * @module
 */
import type { Duplex } from "node:stream";
import * as tls from "node:tls";
import { ClosedError, HandshakeError } from "../../errors.ts";
import type { Socket, TlsInfo } from "../../transport.ts";
import type { NodeServerTls } from "./tls_options.ts";

/** Internals of `tls.TLSSocket` this file relies on, each checked before use. */
interface TlsSocketInternals {
  /** The C++ TLS handle; `verifyError()` is what `tls.Server` checks client certificates with. */
  _handle?: { verifyError?: () => { code?: string; message?: string } | null | undefined } | null;
  /** `tls.Server` calls it once a connection is secure: later TLS errors are emitted as `error`. */
  _releaseControl?: () => boolean;
}

/** Deno's TLSWrap over a JS stream: sends the records its engine has ready. */
interface DenoJsStreamTlsHandle {
  _flushEncOut?: () => void;
}

/**
 * Runs the server handshake over `transport` and resolves with `wrap`'s
 * socket, made in the same tick as the handshake's end so no event is lost.
 * Rejects (and drops the connection) on a handshake failure, a close, or a
 * client certificate that does not verify when the listener requires one.
 */
export function secureServerSide(
  transport: Duplex,
  options: NodeServerTls,
  wrap: (socket: tls.TLSSocket, info: TlsInfo) => Socket,
): Promise<Socket> {
  const sni = options.SNICallback;
  const socket = new tls.TLSSocket(transport, {
    isServer: true,
    ...options,
    SNICallback: sni && ((name, done) =>
      sni(name, (error, context) => {
        done(error, context);
        // Over a JS stream, Deno's node:tls (2.9.6) leaves the ServerHello that an SNI answer given
        // later than the ClientHello produced in its engine until more bytes come, which they do not.
        (socket as unknown as { _handle?: DenoJsStreamTlsHandle | null })._handle?._flushEncOut?.();
      })),
  });
  return settle(socket, "secure", () => {
    if (options.requestCert && options.rejectUnauthorized) {
      const problem = clientCertificateProblem(socket);
      if (problem !== undefined) throw new HandshakeError(`client certificate rejected: ${problem}`);
    }
    (socket as unknown as TlsSocketInternals)._releaseControl?.();
    // `servername` is documented but missing from Deno's own node:tls types (what `deno check` uses outside this repo).
    const serverName = (socket as unknown as { servername?: string | false | null }).servername || undefined;
    return wrap(socket, tlsInfo(socket, serverName));
  });
}

/** Waits for a client socket's `secureConnect` and wraps it the same way. */
export function secureClientSide(
  socket: tls.TLSSocket,
  serverName: string | undefined,
  wrap: (socket: tls.TLSSocket, info: TlsInfo) => Socket,
): Promise<Socket> {
  return settle(socket, "secureConnect", () => wrap(socket, tlsInfo(socket, serverName)));
}

function ignore(): void {}

function settle(socket: tls.TLSSocket, event: string, done: () => Socket): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      socket.off(event, onSecure);
      socket.off("error", onError);
      socket.off("end", onEnd);
      socket.off("close", onClose);
    };
    const fail = (error: unknown) => {
      cleanup();
      // Node.js may still report this failure its own way (a client's "disconnected before secure"): it is ours already.
      socket.on("error", ignore);
      socket.destroy();
      reject(error);
    };
    const onError = (error: Error) => fail(error);
    const onClose = () => fail(new ClosedError("the connection closed during the TLS handshake", "ECONNRESET"));
    // Half-open sockets stay open after the peer's end: a handshake cut short would wait for nothing.
    const onEnd = () => fail(new ClosedError("the peer ended the connection during the TLS handshake", "ECONNRESET"));
    const onSecure = () => {
      cleanup();
      try {
        resolve(done());
      } catch (error) {
        socket.destroy();
        reject(error);
      }
    };
    socket.once(event, onSecure);
    socket.on("error", onError);
    socket.once("end", onEnd);
    socket.once("close", onClose);
  });
}

/**
 * Why the client certificate does not verify, or `undefined` when it does.
 * A `TLSSocket` made by hand (not by `tls.Server`) leaves `authorized`
 * unset on Node.js and Deno, so the handle's verdict is read as
 * `tls.Server` does; Bun fills in `authorized` itself.
 */
function clientCertificateProblem(socket: tls.TLSSocket): string | undefined {
  if (socket.authorized) return undefined;
  const verifyError = (socket as unknown as TlsSocketInternals)._handle?.verifyError;
  if (typeof verifyError === "function") {
    const error = verifyError.call((socket as unknown as TlsSocketInternals)._handle);
    if (!error) return socket.getPeerX509Certificate() === undefined ? "no certificate" : undefined;
    return error.code ?? error.message ?? "verification failed";
  }
  return String(socket.authorizationError ?? "verification failed");
}

/** What a secure `node:tls` socket negotiated. */
export function tlsInfo(socket: tls.TLSSocket, serverName: string | undefined): TlsInfo {
  return {
    protocol: socket.getProtocol() ?? undefined,
    cipher: socket.getCipher()?.name ?? undefined,
    alpnProtocol: socket.alpnProtocol || undefined,
    serverName,
    peerCertificate: peerCertificatePem(socket),
  };
}

function peerCertificatePem(socket: tls.TLSSocket): string | undefined {
  const x509 = socket.getPeerX509Certificate?.();
  if (x509 !== undefined) return x509.toString();
  const raw = socket.getPeerCertificate()?.raw;
  return raw !== undefined && raw.length > 0 ? derToPem(raw) : undefined;
}

/** DER bytes as a PEM `CERTIFICATE` block. */
function derToPem(der: Uint8Array): string {
  let binary = "";
  for (const byte of der) binary += String.fromCharCode(byte);
  const base64 = btoa(binary).replace(/.{1,64}/g, "$&\n");
  return `-----BEGIN CERTIFICATE-----\n${base64}-----END CERTIFICATE-----\n`;
}
