/**
 * Converts Deno's endpoint objects to Corral's `Address` shapes.
 *
 * @module
 */
import type { Address } from "../../transport.ts";
import type { DenoAddr } from "./deno_types.ts";

/**
 * `{transport: "tcp", hostname, port}` becomes `{address, port, family}`;
 * a Unix endpoint becomes `{path}` (`""` for an unnamed client end).
 */
export function toAddress(addr: DenoAddr): Address {
  if ("hostname" in addr) {
    const address = addr.hostname;
    return { address, port: addr.port, family: address.includes(":") ? "IPv6" : "IPv4" };
  }
  return { path: addr.path ?? "" };
}
