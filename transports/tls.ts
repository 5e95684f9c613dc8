/**
 * The TLS transport (Ranch's `ranch_ssl`), the same on every runtime: a
 * listener swaps `tcp({...})` for `tls({...})`; its protocol does not
 * change. Node.js runs `node:tls`; Deno runs its `node:tls` (its own
 * `Deno.listenTls` cannot close a client that never finishes its handshake,
 * nor do SNI or client certificates); Bun runs `Bun.listen` / `Bun.connect`
 * with `tls`, and its `node:tls` where those fall short (`sni`,
 * `detectTruncation`).
 *
 * Certificates, keys and CAs that cannot be used fail with
 * `TlsConfigError` wherever they are read: `listen()`, `connect()`,
 * `upgrade()`.
 *
 * The acceptors only accept: a connection's handshake runs when its
 * protocol calls `conn.handshake()`, bounded by the listener's
 * `handshakeTimeout`, so a silent or broken client is closed, logged once
 * and counted as failed without holding anyone else up.
 *
 * @module
 */
import { PlaintextFirstListenSocket, plaintextFirstServer } from "./tls/_plaintext_first.ts";
import { ListenError, toListenError } from "../src/errors.ts";
import { booleanOption, rejectUnknownOptions, stringOption } from "../src/options.ts";
import type { PendingTlsSocket } from "../src/runtime/adapter.ts";
import { runtimeAdapter } from "../src/runtime/detect.ts";
import type { ListenHints, ListenSocket, Socket, Transport } from "../src/transport.ts";
import { tcpConnectConfig, tcpListenConfig } from "./tcp/options.ts";
import { clientConfig, redactKeys, serverConfig } from "./tls/_material.ts";
import { toHandshakeError, toTlsConnectError, withDeadline } from "./tls/_errors.ts";
import {
  checkClientTlsOptions,
  checkListenOptions,
  CLIENT_UPGRADE_KEYS,
  CONNECT_KEYS,
  timeoutOption,
  type TlsConnectOptions,
  type TlsOptions,
  type TlsUpgradeOptions,
} from "./tls/options.ts";

export type {
  TlsCertificate,
  TlsClientUpgradeOptions,
  TlsConnectOptions,
  TlsOptions,
  TlsServerUpgradeOptions,
  TlsSniCallback,
  TlsUpgradeOptions,
} from "./tls/options.ts";
export type { TlsMinVersion } from "../src/runtime/adapter.ts";

/** The TLS transport value that {@linkcode tls} returns: a transport that can also upgrade (STARTTLS). */
export interface TlsTransport extends Transport<TlsOptions, TlsConnectOptions> {
  /**
   * A TLS transport with `options` merged over these; validates them.
   *
   * @param options The options to change, such as a renewed `cert` and `key`.
   * @returns A new transport; this one is unchanged.
   * @throws {TypeError} When an option is unknown or has the wrong type.
   * @throws {RangeError} When an option is out of range.
   */
  withOptions(options: Partial<TlsOptions>): TlsTransport;
  /**
   * STARTTLS: runs a TLS handshake over an established socket (any
   * transport) and resolves with the secure socket; use only that one from
   * then on. With `isServer: true` this end presents the transport's
   * certificates; otherwise it is the client and takes `connect()`'s TLS options.
   *
   * A protocol that upgrades closes the secure socket itself before it
   * returns: the supervisor closes the socket `conn.handshake()` gave, the
   * plain one underneath, which would cut off TLS records still on their way.
   *
   * @param socket The established plain socket; do not read or write it once this is called.
   * @param options `{ isServer: true }` for the server side, else `connect()`'s TLS options; `timeout` for both.
   * @returns The secure socket.
   * @throws {HandshakeError} When the TLS handshake fails.
   * @throws {TlsConfigError} When a certificate, key or CA cannot be read or used (nothing is sent then).
   * @throws {TimeoutError} When `options.timeout` ms (default 5000) pass first; the socket is destroyed.
   * @throws {TypeError} When an option is unknown or has the wrong type, or a server side has no certificate.
   * @throws {RangeError} When `options.timeout` is negative or not a number.
   */
  upgrade(socket: Socket, options: TlsUpgradeOptions): Promise<Socket>;
}

const NO_CERT_MESSAGE = "give cert and key (PEM text or file paths), or sni (a map of server names to " +
  "{ cert, key }, or a function)";

/**
 * Makes a TLS transport. Options are checked here; certificate files are
 * read, and a listener without any certificate fails, at `listen()`.
 *
 * @param options The TCP options of `tcp()` plus `cert`, `key`, `ca`, `sni`, `alpnProtocols`,
 * `requestCert`, `rejectUnauthorized`, `minVersion` and `detectTruncation`. Clients can leave them out:
 * `tls().connect({ ... })`.
 * @returns A transport for `listen()`'s `transport` option, for `connect()` and for `upgrade()` (STARTTLS).
 * @throws {TypeError} When an option is unknown or has the wrong type, or `cert` comes without `key`.
 * @throws {RangeError} When a value is out of range, such as `minVersion: "TLSv1.1"`.
 *
 * @example An echo listener over TLS, and a client that trusts its CA
 * ```ts ignore
 * import assert from "node:assert/strict";
 * import { listen } from "../mod.ts";
 * import { tls } from "./tls.ts";
 * const listener = await listen({
 *   transport: tls({ host: "127.0.0.1", port: 0, cert: "server.pem", key: "server.key" }),
 *   protocol: async (conn) => {
 *     const socket = await conn.handshake();
 *     for await (const chunk of socket) await socket.send(chunk);
 *   },
 * });
 * const client = await tls().connect({ port: listener.port!, serverName: "localhost", ca: "ca.pem" });
 * assert(client.secure && client.tls?.protocol !== undefined);
 * await client.close();
 * await listener.stop();
 * ```
 *
 * @example A listener without a certificate fails at listen()
 * ```ts
 * import assert from "node:assert/strict";
 * import { listen, ListenError } from "../mod.ts";
 * import { tls } from "./tls.ts";
 * const error = await listen({ transport: tls({ port: 0 }), protocol: () => {} }).catch((e) => e);
 * assert(error instanceof ListenError && error.code === "NO_CERT");
 * ```
 */
export function tls(options: TlsOptions = {}): TlsTransport {
  return new TlsTransportImpl(checkListenOptions(options));
}

class TlsTransportImpl implements TlsTransport {
  readonly name = "tls";
  readonly secure = true;
  /** The options as given, private keys included; `options` shows them redacted. */
  #options: Readonly<TlsOptions>;
  #shown: Readonly<TlsOptions> | undefined;

  constructor(options: Readonly<TlsOptions>) {
    this.#options = options;
  }

  /** The options as set, with private keys given as PEM text shown as `"[private key redacted]"`. */
  get options(): Readonly<TlsOptions> {
    this.#shown ??= redactKeys(this.#options);
    return this.#shown;
  }

  withOptions(options: Partial<TlsOptions>): TlsTransport {
    return new TlsTransportImpl(checkListenOptions({ ...this.#options, ...options }));
  }

  async listen(hints?: ListenHints): Promise<ListenSocket> {
    const o = this.#options;
    const where = `tls ${o.host ?? "0.0.0.0"}:${o.port ?? 0}`;
    if (o.cert === undefined && o.sni === undefined) {
      throw new ListenError("NO_CERT", `cannot listen on ${where}: no certificate; ${NO_CERT_MESSAGE}`);
    }
    const adapter = await runtimeAdapter();
    try {
      const config = tcpListenConfig(o);
      const tls = await serverConfig(adapter.readTextFile, o);
      if (hints?.plaintextFirst) {
        // A PROXY header precedes the ClientHello: accept plain TCP, and let
        // handshake() run TLS over the socket once the header is read.
        return new PlaintextFirstListenSocket(await adapter.listenTcp(config), tls);
      }
      return await adapter.listenTls({ ...config, tls });
    } catch (error) {
      throw toListenError(error, where);
    }
  }

  async connect(options: TlsConnectOptions): Promise<Socket> {
    const config = tcpConnectConfig("tls().connect()", options, CONNECT_KEYS);
    checkClientTlsOptions("tls().connect()", options);
    const adapter = await runtimeAdapter();
    const client = await clientConfig(adapter.readTextFile, "tls().connect()", options);
    try {
      return await adapter.connectTls({ ...config, tls: client });
    } catch (error) {
      throw toTlsConnectError(error, `tls ${config.host}:${config.port}`);
    }
  }

  /** Runs the handshake of a connection this transport's listen socket accepted. */
  async handshake(socket: Socket, timeout: number): Promise<Socket> {
    const pending = socket as Partial<PendingTlsSocket>;
    const plaintextServer = plaintextFirstServer(socket);
    let work: Promise<Socket>;
    if (typeof pending.handshakeTls === "function") {
      work = pending.handshakeTls();
    } else if (plaintextServer !== undefined) {
      // Accepted as plain TCP (see listen()): the bytes after the PROXY header are the ClientHello.
      const adapter = await runtimeAdapter();
      work = adapter.upgradeTls(socket, { isServer: true, server: plaintextServer });
    } else {
      throw new TypeError("tls handshake(): the socket was not accepted by a tls listener; use upgrade() instead");
    }
    try {
      return await withDeadline(work, timeout, "TLS handshake", () => socket.destroy());
    } catch (error) {
      throw toHandshakeError(error, "TLS handshake");
    }
  }

  async upgrade(socket: Socket, options: TlsUpgradeOptions): Promise<Socket> {
    if (options === null || typeof options !== "object") {
      throw new TypeError("tls().upgrade(socket, options): options must be { isServer: true } or client options");
    }
    const adapter = await runtimeAdapter();
    let work: Promise<Socket>;
    let timeout: number;
    if (options.isServer === true) {
      rejectUnknownOptions("tls().upgrade() for a server", options, ["isServer", "timeout"]);
      timeout = timeoutOption("tls().upgrade() option timeout", options.timeout);
      const o = this.#options;
      if (o.cert === undefined && o.sni === undefined) {
        throw new TypeError(`tls().upgrade() with isServer: the transport has no certificate; ${NO_CERT_MESSAGE}`);
      }
      const server = await serverConfig(adapter.readTextFile, o);
      work = adapter.upgradeTls(socket, { isServer: true, server });
    } else {
      rejectUnknownOptions("tls().upgrade()", options, CLIENT_UPGRADE_KEYS);
      booleanOption("tls().upgrade() option isServer", options.isServer, false);
      timeout = timeoutOption("tls().upgrade() option timeout", options.timeout);
      const host = stringOption("tls().upgrade() option host", options.host);
      checkClientTlsOptions("tls().upgrade()", options);
      const client = await clientConfig(adapter.readTextFile, "tls().upgrade()", options);
      work = adapter.upgradeTls(socket, { isServer: false, host, client });
    }
    try {
      return await withDeadline(work, timeout, "STARTTLS handshake", () => socket.destroy());
    } catch (error) {
      throw toHandshakeError(error, "STARTTLS handshake");
    }
  }
}
