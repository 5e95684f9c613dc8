/**
 * Corral: a socket acceptor pool for TypeScript on Node.js, Deno and Bun —
 * Erlang's Ranch rebuilt for JavaScript runtimes.
 *
 * A listener owns listen sockets, a pool of acceptors and a connection
 * supervisor; it runs your protocol function once per connection over a
 * transport you choose per listener: `tcp`, `tls`, `unix` or the in-process `memory`.
 *
 * @example An echo server
 * ```ts
 * import { listen, tcp } from "./mod.ts";
 * const listener = await listen({
 *   transport: tcp({ host: "127.0.0.1", port: 0 }),
 *   protocol: async (conn) => {
 *     const socket = await conn.handshake();
 *     for await (const chunk of socket) await socket.send(chunk);
 *   },
 * });
 * await listener.stop();
 * ```
 *
 * @module
 */
export { listen } from "./src/listen.ts";
export { Listener } from "./src/listener.ts";
export type { CountComparison, ListenerInfo, ListenerStatus } from "./src/listener.ts";
export type { ListenOptions, Protocol } from "./src/listen_options.ts";
export { handler } from "./src/handler/handler.ts";
export type { Handler } from "./src/handler/handler.ts";
export type { Logger } from "./src/logger.ts";
export type { Connection } from "./src/connection.ts";
export type { ConnectionCounters, ShutdownTimeout } from "./src/supervisor_options.ts";
export type { Alarms, ConnectionsAlarm } from "./src/alarms.ts";
export { telemetryChannels } from "./src/telemetry/events.ts";
export type {
  AcceptorErrorEvent,
  ConnectionEndReason,
  ConnectionLimitEvent,
  ClusterStatusEvent,
  ConnectionShutdownEvent,
  ConnectionTraceContext,
  HandshakeTraceContext,
  ListenerEvent,
} from "./src/telemetry/events.ts";
export { getListener, info, listeners, stopListener } from "./src/listener_registry.ts";
export type {
  Address,
  InetAddress,
  ListenHints,
  ListenSocket,
  MemoryAddress,
  RecvOptions,
  SendfileOptions,
  ShutdownHow,
  Socket,
  SocketOptions,
  TlsInfo,
  Transport,
  UnixAddress,
} from "./src/transport.ts";
export {
  ClosedError,
  CorralError,
  HandshakeError,
  ListenError,
  ProxyHeaderError,
  TimeoutError,
  UnsupportedError,
} from "./src/errors.ts";
export { TlsConfigError } from "./src/tls_config_error.ts";
export { buildProxyHeader, parseProxyHeader } from "./src/proxy/proxy_header.ts";
export type {
  BuildProxyHeaderOptions,
  IncompleteProxyHeader,
  ParsedProxyHeader,
  ProxyCommand,
  ProxyFamily,
  ProxyHeader,
  ProxyHeaderErrorCode,
  ProxyHeaderInit,
  ProxyHeaderParseResult,
  ProxyProtocol,
  ProxyRawTlv,
  ProxySslInfo,
  ProxyTlvs,
} from "./src/proxy/proxy_header.ts";
export type { ProxyHeaderOptions } from "./src/listen_options.ts";
export { Registry } from "./src/registry/registry.ts";
export type {
  BroadcastOptions,
  ClusterStatus,
  PubSub,
  RegistryEntry,
  RegistryKeys,
  RegistryOptions,
  Unsubscribe,
} from "./src/registry/registry.ts";
export { handover } from "./src/handover/handover.ts";
export type { HandoverOptions, HandoverResult, HandoverVia } from "./src/handover/handover.ts";
export { HandoverError } from "./src/handover/handover_error.ts";
export type { HandoverErrorCode } from "./src/handover/handover_error.ts";
export { listenFds } from "./src/handover/listen_fds.ts";
export type { ListenFd, ListenFdsOptions } from "./src/handover/listen_fds.ts";
export { notifyReady } from "./src/handover/notify_ready.ts";
export { checkTcpMigrateReq } from "./src/handover/tcp_migrate_req.ts";
export type { CheckTcpMigrateReqOptions } from "./src/handover/tcp_migrate_req.ts";
export { lines, LineTooLongError } from "./src/lines.ts";
export type { LinesOptions } from "./src/lines.ts";
export { startWorkers } from "./src/workers/start_workers.ts";
export { serveWorker } from "./src/workers/serve_worker.ts";
export type { WorkerListeners } from "./src/workers/serve_worker.ts";
export { WorkerError } from "./src/workers/worker_error.ts";
export type {
  PoolWorker,
  StartWorkersOptions,
  WorkerContext,
  WorkerInfo,
  WorkerPool,
  WorkerPoolInfo,
  WorkerStatus,
} from "./src/workers/worker_types.ts";
export { tcp } from "./transports/tcp.ts";
export type { TcpConnectOptions, TcpOptions, TcpTransport } from "./transports/tcp.ts";
export { tls } from "./transports/tls.ts";
export type {
  TlsCertificate,
  TlsClientUpgradeOptions,
  TlsConnectOptions,
  TlsMinVersion,
  TlsOptions,
  TlsServerUpgradeOptions,
  TlsSniCallback,
  TlsTransport,
  TlsUpgradeOptions,
} from "./transports/tls.ts";
export { unix } from "./transports/unix.ts";
export type { UnixConnectOptions, UnixOptions, UnixTransport } from "./transports/unix.ts";
export { memory } from "./transports/memory.ts";
export type {
  FaultAmount,
  MemoryConnectOptions,
  MemoryFaultOptions,
  MemoryOptions,
  MemoryTransport,
  Scheduler,
} from "./transports/memory.ts";
