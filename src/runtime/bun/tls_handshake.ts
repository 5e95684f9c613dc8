/**
 * Bun's TLS socket handlers. Bun runs the handshake itself, right after
 * accepting or connecting; a connection's `socket.data` is a
 * {@linkcode BunHandshake} until the `handshake` event, then the
 * `BunSocketChannel` its `StreamSocket` reads.
 *
 * @module
 */
import { ClosedError, HandshakeError } from "../../errors.ts";
import { StreamSocket } from "../../socket/stream_socket.ts";
import type { Socket, TlsInfo } from "../../transport.ts";
import type { BunSocket } from "./bun_types.ts";
import { BunSocketChannel } from "./socket_channel.ts";
import type { TcpOptions } from "./socket_handlers.ts";
import type { BunTlsHandler, BunTlsSocket } from "./tls_types.ts";

type TlsData = BunHandshake | BunSocketChannel;
type TlsSocket = BunTlsSocket<TlsData>;

function ignore(): void {}

/** One connection's handshake: settles once, with the secure `StreamSocket` or the reason it failed. */
export class BunHandshake {
  /** Settles at the `handshake` event, or when the connection closes first. */
  readonly done: Promise<Socket>;
  #resolve!: (socket: Socket) => void;
  #reject!: (error: unknown) => void;
  #settled = false;
  #tcp: TcpOptions | undefined;
  /** Whether an unverified peer certificate fails the handshake. */
  #insist: boolean;
  /** The SNI name a client sent; `undefined` on the server, which asks the socket. */
  #serverName: string | undefined;
  #isServer: boolean;

  constructor(options: { isServer: boolean; insist: boolean; serverName?: string; tcp?: TcpOptions }) {
    this.#isServer = options.isServer;
    this.#insist = options.insist;
    this.#serverName = options.serverName;
    this.#tcp = options.tcp;
    this.done = new Promise((resolve, reject) => ((this.#resolve = resolve), (this.#reject = reject)));
    // Nobody may be waiting yet (the protocol has not called conn.handshake()).
    this.done.catch(ignore);
  }

  /** Bun's `handshake` event: on success, the socket's channel takes over its events. */
  handshook(socket: TlsSocket, success: boolean, authorizationError: Error | null): void {
    if (this.#settled) return;
    // A certificate verdict (its code is not a system one) makes `success` false on a client even
    // when it does not insist on verification; only `insist` decides about those.
    const verdict = authorizationError !== null && !isTransportError(authorizationError);
    if (verdict ? this.#insist : !success) {
      const reason = authorizationError?.message ?? "the TLS handshake failed";
      const code = (authorizationError as { code?: string } | null)?.code;
      this.fail(
        verdict
          ? new HandshakeError(`${this.#isServer ? "client" : "server"} certificate rejected: ${code ?? reason}`)
          : authorizationError ?? new HandshakeError(reason),
      );
      socket.terminate();
      return;
    }
    this.#settled = true;
    const channel = new BunSocketChannel(socket as unknown as BunSocket<BunSocketChannel>, undefined);
    socket.data = channel;
    const tcp = this.#tcp;
    if (tcp !== undefined) {
      socket.setNoDelay?.(tcp.noDelay);
      if (tcp.keepAlive) socket.setKeepAlive?.(true);
    }
    this.#resolve(new StreamSocket(channel, { secure: true, tls: this.#info(socket) }));
  }

  /** The connection failed or closed before its handshake ended. */
  fail(error: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#reject(error);
  }

  #info(socket: TlsSocket): TlsInfo {
    return {
      protocol: socket.getTLSVersion() ?? undefined,
      cipher: socket.getCipher()?.name ?? undefined,
      alpnProtocol: socket.alpnProtocol || undefined,
      serverName: this.#isServer ? socket.getServername?.() || undefined : this.#serverName,
      peerCertificate: socket.getPeerX509Certificate?.()?.toString(),
    };
  }
}

/** Connection-level failures (`EPROTO`, `ECONNRESET` ...) as opposed to certificate verdicts. */
function isTransportError(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" && /^E[A-Z]+$/.test(code);
}

function onHandshake(socket: TlsSocket, success: boolean, authorizationError: Error | null): void {
  const data = socket.data;
  if (data instanceof BunHandshake) data.handshook(socket, success, authorizationError);
}

function onData(socket: TlsSocket, chunk: Uint8Array): void {
  const data = socket.data;
  if (data instanceof BunSocketChannel) data.received(chunk);
}

function onDrain(socket: TlsSocket): void {
  const data = socket.data;
  if (data instanceof BunSocketChannel) data.drained();
}

function onEnd(socket: TlsSocket): void {
  const data = socket.data;
  if (data instanceof BunSocketChannel) data.peerEnded();
}

function onClose(socket: TlsSocket, error?: Error): void {
  const data = socket.data;
  if (data instanceof BunSocketChannel) data.closed(error);
  else if (data instanceof BunHandshake) {
    data.fail(error ?? new ClosedError("the connection closed during the TLS handshake", "ECONNRESET"));
  }
}

function onError(socket: TlsSocket, error: Error): void {
  const data = socket.data;
  if (data instanceof BunSocketChannel && data.failed(error)) return;
  if (data instanceof BunHandshake) {
    data.fail(error);
    socket.terminate();
    return;
  }
  socket.terminate();
  throw error;
}

/**
 * The handlers of every TLS socket (a listen socket adds `open`);
 * `socket.data` starts as the connection's {@linkcode BunHandshake}.
 */
export const tlsConnectHandlers: BunTlsHandler<TlsData> = {
  binaryType: "uint8array",
  handshake: onHandshake,
  data: onData,
  drain: onDrain,
  end: onEnd,
  close: onClose,
  error: onError,
};

/** The handlers of a TLS listen socket; `accept` gets each new connection's handshake and socket. */
export function tlsListenHandlers(
  accept: (handshake: BunHandshake, socket: TlsSocket) => void,
  insist: boolean,
  tcp: TcpOptions,
): BunTlsHandler<TlsData> {
  return {
    ...tlsConnectHandlers,
    open(socket) {
      const handshake = new BunHandshake({ isServer: true, insist, tcp });
      socket.data = handshake;
      accept(handshake, socket as TlsSocket);
    },
  };
}
