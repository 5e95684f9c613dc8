/**
 * Bun's socket event handlers. Bun takes one handler object per
 * `Bun.listen` / `Bun.connect` call, not per socket: each handler finds the
 * connection's channel in `socket.data`, so nothing is allocated per
 * connection or per chunk beyond the channel itself.
 *
 * @module
 */
import { StreamSocket } from "../../socket/stream_socket.ts";
import type { BunSocket, BunSocketHandler } from "./bun_types.ts";
import { BunSocketChannel } from "./socket_channel.ts";
import type { UnixEnds } from "./socket_channel.ts";

type ChannelSocket = BunSocket<BunSocketChannel>;

/** TCP options applied to each new TCP socket. */
export interface TcpOptions {
  noDelay: boolean;
  keepAlive: boolean;
}

/** A `Bun.connect` in progress: its `socket.data` until `open` swaps in the channel. */
export interface PendingConnect {
  /** Set by `open`, before `Bun.connect` resolves. */
  socket: StreamSocket | undefined;
  unix: UnixEnds | undefined;
  tcp: TcpOptions | undefined;
}

function applyTcpOptions(socket: ChannelSocket, tcp: TcpOptions): void {
  // Bun turns TCP_NODELAY on by itself; set it anyway, so `noDelay: false`
  // (and a Bun version with another default) get what was asked for.
  socket.setNoDelay?.(tcp.noDelay);
  if (tcp.keepAlive) socket.setKeepAlive?.(true);
}

function onData(socket: ChannelSocket, chunk: Uint8Array): void {
  socket.data.received(chunk);
}

function onDrain(socket: ChannelSocket): void {
  socket.data.drained();
}

function onEnd(socket: ChannelSocket): void {
  socket.data.peerEnded();
}

function onClose(socket: ChannelSocket, error?: Error): void {
  // `data` is no channel only when `open` failed before setting it.
  const channel: unknown = socket.data;
  if (channel instanceof BunSocketChannel) channel.closed(error);
}

function onError(socket: ChannelSocket, error: Error): void {
  const channel: unknown = socket.data;
  if (channel instanceof BunSocketChannel && channel.failed(error)) return;
  // Not a live connection's failure (an `open` that threw, a sink that threw
  // while closing): drop the socket and let the error surface, as Bun does
  // without an `error` handler.
  socket.terminate();
  throw error;
}

/** The handlers of a listen socket: each accepted connection becomes a `StreamSocket` handed to `accept`. */
export function listenHandlers(
  accept: (socket: StreamSocket) => void,
  unix: UnixEnds | undefined,
  tcp: TcpOptions | undefined,
): BunSocketHandler<BunSocketChannel> {
  return {
    // Chunks arrive as plain Uint8Arrays, as on Deno and the memory
    // transport (no Buffer whose slice() is a view); measured as fast as Buffer.
    binaryType: "uint8array",
    open(socket) {
      const channel = new BunSocketChannel(socket, unix);
      socket.data = channel;
      if (tcp !== undefined) applyTcpOptions(socket, tcp);
      accept(new StreamSocket(channel));
    },
    data: onData,
    drain: onDrain,
    end: onEnd,
    close: onClose,
    error: onError,
  };
}

/** The handlers of every client socket; `socket.data` starts as a {@linkcode PendingConnect}. */
export const connectHandlers: BunSocketHandler<BunSocketChannel> = {
  binaryType: "uint8array",
  open(socket) {
    const pending = socket.data as unknown as PendingConnect;
    const channel = new BunSocketChannel(socket, pending.unix);
    socket.data = channel;
    if (pending.tcp !== undefined) applyTcpOptions(socket, pending.tcp);
    // Created here, not after Bun.connect resolves, so no event can come before the sink.
    pending.socket = new StreamSocket(channel);
  },
  data: onData,
  drain: onDrain,
  end: onEnd,
  close: onClose,
  error: onError,
};
