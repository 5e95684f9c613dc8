/**
 * The core's one door to `node:diagnostics_channel` (and to the one piece
 * of `node:async_hooks` telemetry needs), which Node.js, Deno and Bun
 * implement alike. Loaded the way node-redis does it, with
 * `process.getBuiltinModule`, so nothing is imported where the module is
 * missing: there every channel is a no-op whose `hasSubscribers` is false.
 *
 * Every publish in the core is guarded by `hasSubscribers` (one property
 * read), so a listener nobody watches allocates nothing for telemetry.
 *
 * @module
 */

/** The part of a `diagnostics_channel` channel the core uses. */
export interface Channel {
  /** True while someone subscribed (or bound a store, for a tracing sub-channel). */
  readonly hasSubscribers: boolean;
  /** Sends `message` to every subscriber, synchronously. */
  publish(message: unknown): void;
  /** Publishes `message` with the stores bound to this channel entered, then runs `fn` inside them. */
  runStores<R>(message: unknown, fn: () => R): R;
}

/** The five channels of a tracing channel (`tracing:NAME:start`, ...). */
export interface TracingChannels {
  readonly start: Channel;
  readonly end: Channel;
  readonly asyncStart: Channel;
  readonly asyncEnd: Channel;
  readonly error: Channel;
}

interface DiagnosticsChannelModule {
  channel(name: string): Channel;
}

interface AsyncHooksModule {
  AsyncLocalStorage?: { snapshot?(): Scope };
}

type GetBuiltinModule = (id: string) => unknown;

const getBuiltinModule = (globalThis as { process?: { getBuiltinModule?: GetBuiltinModule } }).process
  ?.getBuiltinModule;

/** Loads a built-in module; `undefined` where the runtime has none (or no `getBuiltinModule`). */
function builtin<T>(load: () => unknown): T | undefined {
  try {
    return load() as T | undefined;
  } catch {
    return undefined;
  }
}

// Literal ids at each call, so scripts/check_layout.mjs sees which built-ins this file loads.
const diagnostics = builtin<DiagnosticsChannelModule>(() => getBuiltinModule?.("node:diagnostics_channel"));
const asyncHooks = builtin<AsyncHooksModule>(() => getBuiltinModule?.("node:async_hooks"));

/** A channel nobody can subscribe to: where `node:diagnostics_channel` is missing. */
const SILENT: Channel = {
  hasSubscribers: false,
  publish() {},
  runStores: (_message, fn) => fn(),
};

function channel(name: string): Channel {
  return diagnostics?.channel(name) ?? SILENT;
}

function tracingChannels(name: string): TracingChannels {
  return {
    start: channel(`tracing:${name}:start`),
    end: channel(`tracing:${name}:end`),
    asyncStart: channel(`tracing:${name}:asyncStart`),
    asyncEnd: channel(`tracing:${name}:asyncEnd`),
    error: channel(`tracing:${name}:error`),
  };
}

/**
 * Whether anyone watches a tracing channel. Worked out from its five
 * channels, not `TracingChannel.hasSubscribers`, which Bun leaves undefined.
 */
export function isTraced(tracing: TracingChannels): boolean {
  return tracing.start.hasSubscribers || tracing.end.hasSubscribers || tracing.asyncStart.hasSubscribers ||
    tracing.asyncEnd.hasSubscribers || tracing.error.hasSubscribers;
}

/** `corral:connection`: around each protocol call. */
export const connectionTracing: TracingChannels = tracingChannels("corral:connection");
/** `corral:handshake`: around each `conn.handshake()` (PROXY header and TLS). */
export const handshakeTracing: TracingChannels = tracingChannels("corral:handshake");

/** `corral:listener:start`: a listener opened its listen sockets. */
export const listenerStartChannel: Channel = channel("corral:listener:start");
/** `corral:listener:stop`: a listener stopped (its connections are over). */
export const listenerStopChannel: Channel = channel("corral:listener:stop");
/** `corral:listener:suspend`: a listener closed its listen sockets, connections carry on. */
export const listenerSuspendChannel: Channel = channel("corral:listener:suspend");
/** `corral:listener:resume`: a suspended listener listens again. */
export const listenerResumeChannel: Channel = channel("corral:listener:resume");
/** `corral:acceptor:error`: an accept error the acceptor swallowed (it retries or backs off). */
export const acceptorErrorChannel: Channel = channel("corral:acceptor:error");
/** `corral:connection:limit`: `maxConnections` was reached, or a slot freed after it was. */
export const connectionLimitChannel: Channel = channel("corral:connection:limit");
/** `corral:connection:shutdown`: the core aborted a connection's `signal` (a stop, an idle timeout). */
export const connectionShutdownChannel: Channel = channel("corral:connection:shutdown");
/** `corral:cluster:status`. */
export const clusterStatusChannel: Channel = channel("corral:cluster:status");

/** Runs `fn(...args)` in the async context captured when the scope was made. */
export type Scope = <A extends unknown[], R>(fn: (...args: A) => R, ...args: A) => R;

/**
 * The async context running now, to re-enter later from code the runtime
 * calls outside it (a socket's read path): `AsyncLocalStorage.snapshot()`.
 * `undefined` where the runtime has none.
 */
export function captureScope(): Scope | undefined {
  return asyncHooks?.AsyncLocalStorage?.snapshot?.();
}
