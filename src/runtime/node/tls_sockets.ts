/**
 * TLS listen sockets and client connections on Node.js: `node:tls` over
 * `node:net`, the same code Deno and Bun run for what their own TLS APIs
 * cannot do (see ../shared/node_tls.ts), after Node.js's own check of
 * `reusePort`.
 *
 * @module
 */
import type { ListenSocket, Socket } from "../../transport.ts";
import type { TlsConnectConfig, TlsListenConfig } from "../adapter.ts";
import { connectNodeTls, listenNodeTls } from "../shared/node_tls.ts";
import { parseTlsPath, TLS_PATH_VARIABLE, withTlsPath } from "../shared/tls_path.ts";
import { checkReusePort } from "./node_version.ts";

/** Node.js has one TLS path; the benchmarks may ask for it over a carrier (`node-carrier`). */
const path = parseTlsPath(process.env[TLS_PATH_VARIABLE]);

/** Opens a `net.Server` whose connections wait, unread, for their handshake. */
export async function listenTls(config: TlsListenConfig): Promise<ListenSocket> {
  checkReusePort(config.reusePort);
  return await listenNodeTls({ ...config, tls: withTlsPath(config.tls, path) });
}

/** Connects and resolves once the server's certificate is verified (unless told not to). */
export async function connectTls(config: TlsConnectConfig): Promise<Socket> {
  return await connectNodeTls({ ...config, tls: withTlsPath(config.tls, path) });
}
