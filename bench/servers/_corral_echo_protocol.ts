/**
 * What the Corral echo server runs in its own thread and in worker mode's
 * threads alike: the protocol, in either shape, and the listener settings.
 *
 * @module
 */
import { handler, type Protocol } from "../../mod.ts";

/** The idiomatic echo protocol, pull-shaped: `for await` over the socket, each send awaited. */
export const echo: Protocol = async (conn) => {
  const socket = await conn.handshake();
  for await (const chunk of socket) await socket.send(chunk);
};

/**
 * The same echo, push-shaped: `handler()` calls `data` straight from the read
 * path, and `send()`'s promise is left alone (a send over the high-water mark
 * pauses reading by itself, a failed one closes the socket).
 */
export const handlerEcho: Protocol = handler({
  data(chunk, socket) {
    void socket.send(chunk);
  },
});

/** The protocol shapes the server offers (`--shape`). */
export const SHAPES = { pull: echo, handler: handlerEcho } as const;
export type Shape = keyof typeof SHAPES;

/** `--shape`'s value as a shape; anything else is a RangeError naming the flag. */
export function shapeOf(name: string): Shape {
  if (name === "pull" || name === "handler") return name;
  throw new RangeError(`--shape: pull or handler, not ${JSON.stringify(name)}`);
}

export const LISTEN_SETTINGS = {
  // The idle scenario holds 10,000 connections; Ranch's default of 1024 would queue the rest.
  maxConnections: Infinity,
  shutdownTimeout: "brutal",
} as const;

/** What a worker needs to listen like the single-thread server: the address, the shape and, for TLS, the files. */
export interface EchoServerData {
  host: string;
  shape: Shape;
  cert: string;
  key: string;
}
