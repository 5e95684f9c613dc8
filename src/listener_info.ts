/**
 * What a listener says of itself: its status, and the snapshot `info()`
 * returns.
 *
 * @module
 */
import type { ConnectionCounters } from "./supervisor_options.ts";
import type { Address } from "./transport.ts";

/** Where a listener is in its life. */
export type ListenerStatus = "running" | "suspended" | "stopped";

/** A snapshot of a listener (Ranch's `ranch:info/1`). */
export interface ListenerInfo extends ConnectionCounters {
  /** The listener's registry name. */
  ref: string;
  /** `"running"`, `"suspended"` or `"stopped"`. */
  status: ListenerStatus;
  /** The transport's name, such as `"tcp"`. */
  transport: string;
  /** The transport options as set. */
  transportOptions: object;
  /** Where it listens (last known while suspended or stopped). */
  address: Address | undefined;
  /** The TCP port, when there is one. */
  port: number | undefined;
  /** The connection limit. */
  maxConnections: number;
  /** Accept loops. */
  numAcceptors: number;
  /** Listen sockets. */
  numListenSockets: number;
  /** Bytes its connections received, ended and running ones (TLS: decrypted; PROXY headers not counted). */
  bytesReceived: number;
  /** Bytes its connections sent, ended and running ones. */
  bytesSent: number;
  /** Accept errors its acceptors got over, by code (`{ EMFILE: 3, ECONNABORTED: 1 }`), since it started. */
  acceptErrors: Record<string, number>;
  /** Ms a connection may receive nothing before it is timed out (`Infinity`: no limit). */
  idleTimeout: number;
}
