/**
 * An IP address as Corral reports it, from the loose fields `node:net` and
 * Bun give (any of them may be missing on a socket that is already gone).
 *
 * @module
 */
import type { Address } from "../../transport.ts";

/** `{ address, port, family }`; the family is guessed from the address only when the runtime gives none. */
export function inetAddress(
  address: string | undefined,
  port: number | undefined,
  family: string | undefined,
): Address {
  return {
    address: address ?? "",
    port: port ?? 0,
    family: family === "IPv6" || (family === undefined && address?.includes(":") === true) ? "IPv6" : "IPv4",
  };
}
