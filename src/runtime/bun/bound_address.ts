/**
 * The address a Bun listener is bound to (TCP or TLS alike).
 *
 * @module
 */
import type { Address } from "../../transport.ts";
import { inetAddress } from "../shared/inet_address.ts";

/** What `boundAddress` reads off a Bun listener. */
export interface BoundListener {
  readonly port?: number;
  getsockname?(out: { address?: string; port?: number; family?: string }): void;
}

/** The bound address, with the real port when port 0 was asked for; `host` when Bun cannot say. */
export function boundAddress(listener: BoundListener, host: string): Address {
  const bound: { address?: string; port?: number; family?: string } = {};
  listener.getsockname?.(bound);
  return inetAddress(bound.address ?? host, bound.port ?? listener.port, bound.family);
}
