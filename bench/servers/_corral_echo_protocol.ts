/**
 * What the Corral echo server runs in its own thread and in worker mode's
 * threads alike: the protocol and the listener settings.
 *
 * @module
 */
import type { Protocol } from "../../mod.ts";

/** The idiomatic echo protocol. */
export const echo: Protocol = async (conn) => {
  const socket = await conn.handshake();
  for await (const chunk of socket) await socket.send(chunk);
};

export const LISTEN_SETTINGS = {
  // The idle scenario holds 10,000 connections; Ranch's default of 1024 would queue the rest.
  maxConnections: Infinity,
  shutdownTimeout: "brutal",
} as const;

/** What a worker needs to listen like the single-thread server: the address and, for TLS, the files. */
export interface EchoServerData {
  host: string;
  cert: string;
  key: string;
}
