/**
 * Where a socket or listener is: the address types every transport shares.
 *
 * @module
 */

/** An IP endpoint, shaped like Node.js's `AddressInfo`. */
export interface InetAddress {
  /** The numeric address, such as `"127.0.0.1"` or `"::1"`. */
  address: string;
  /** The port number. */
  port: number;
  /** `"IPv4"` or `"IPv6"`. */
  family: "IPv4" | "IPv6";
}

/** A Unix domain socket endpoint. */
export interface UnixAddress {
  /** The socket file's path (empty for an unnamed client end). */
  path: string;
}

/** An endpoint of the in-process memory transport. */
export interface MemoryAddress {
  /** The name the memory listener registered. */
  name: string;
}

/** Where a socket or listener is: an IP endpoint, a socket file or a memory name. */
export type Address = InetAddress | UnixAddress | MemoryAddress;
