/**
 * What a connection supervisor is given and what it reports: the shutdown
 * grace, the `maxConnections` check, the protocol as it runs it, its init
 * and its counters. `connection_supervisor.ts` re-exports all of it.
 *
 * @module
 */
import type { Alarms } from "./alarms.ts";
import type { ConnectionRecord } from "./connection_record.ts";
import type { Logger } from "./logger.ts";
import { integerOption } from "./options.ts";
import type { ProxyHeaderReading } from "./proxy/reader.ts";

/** How long `stop()` lets connections finish: ms, `Infinity`, or `"brutal"` (not at all). */
export type ShutdownTimeout = number | "brutal";

/**
 * `maxConnections`: an integer from 1, or `Infinity`. `name` says where it
 * was given: the `listen()` option, or the `listener.maxConnections` setter.
 */
export function checkMaxConnections(value: unknown, name = "listen() option maxConnections"): number {
  return integerOption(name, value, 1, Infinity, 1024);
}

/**
 * The protocol as the supervisor runs it, on the record it made: the public
 * `Protocol` seen from inside, with the listener an opaque `L`.
 */
export type SupervisedProtocol<L> = (conn: ConnectionRecord<L>, options: unknown) => void | Promise<void>;

/** What the supervisor is told about its listener. */
export interface SupervisorInit<L> {
  listener: L;
  ref: string;
  protocol: SupervisedProtocol<L>;
  protocolOptions: unknown;
  maxConnections: number;
  handshakeTimeout: number;
  /** Read a PROXY header in each `conn.handshake()` (the `proxyHeader` option). */
  proxyHeader?: ProxyHeaderReading;
  logger: Logger;
  /** Ms a connection may receive nothing; `Infinity` for no limit. */
  idleTimeout: number;
  /** The grace after an idle timeout (and at stop, given to `shutdown()`). */
  shutdownTimeout: ShutdownTimeout;
  alarms: Alarms<L> | undefined;
}

/** Counts of connections and what happened to them. */
export interface ConnectionCounters {
  /** Connections counted against `maxConnections`. */
  activeConnections: number;
  /** Every running connection, removed ones included. */
  allConnections: number;
  /** Connections handed to the protocol so far. */
  accepted: number;
  /** Connections that ended, however they ended. */
  terminated: number;
  /** Connections whose protocol threw or rejected, or whose handshake failed. */
  failed: number;
}
