/**
 * A `ByteChannel` over a `node:net` socket (and a `node:tls` one, which is
 * the same class underneath).
 *
 * @module
 */
import type { Socket as NetSocket } from "node:net";
import type { ByteChannel, ChannelSink } from "../../socket/byte_channel.ts";
import type { Address } from "../../transport.ts";
import { inetAddress } from "./inet_address.ts";

/** Where a socket's listeners find the sink (Node.js calls listeners with `this` = the socket). */
const SINK = Symbol("corral.sink");

type SinkSocket = NetSocket & { [SINK]: ChannelSink };

// One set of listener functions for every socket: nothing is allocated per
// connection beyond one property, nor per chunk.
function onData(this: SinkSocket, chunk: Uint8Array): void {
  this[SINK].onData(chunk);
}
function onEnd(this: SinkSocket): void {
  this[SINK].onEnd();
}
function onDrain(this: SinkSocket): void {
  this[SINK].onDrain();
}
function onError(this: SinkSocket, error: Error): void {
  this[SINK].onError(error);
}
function onClose(this: SinkSocket): void {
  this[SINK].onClose();
}
function destroySocket(this: NetSocket): void {
  this.destroy();
}

/** Events wired once per connection, to shared listeners. */
export class NodeSocketChannel implements ByteChannel {
  #socket: NetSocket;
  #unix: { local: string; remote: string } | undefined;
  /** `drain` is listened to from the first write the socket could not take at once. */
  #drainWatched = false;
  #local: Address | undefined;
  #remote: Address | undefined;

  /** `unix` marks a Unix domain socket and names both ends' files ("" for an unnamed end). */
  constructor(socket: NetSocket, unix?: { local: string; remote: string }) {
    this.#socket = socket;
    this.#unix = unix;
  }

  start(sink: ChannelSink): void {
    const socket = this.#socket as SinkSocket;
    socket[SINK] = sink;
    socket.on("data", onData);
    socket.on("end", onEnd);
    socket.on("error", onError);
    socket.on("close", onClose);
  }

  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  write(chunk: Uint8Array): boolean {
    const socket = this.#socket;
    if (socket.write(chunk)) return true;
    if (!this.#drainWatched) {
      this.#drainWatched = true;
      socket.on("drain", onDrain);
    }
    return false;
  }

  end(): void {
    this.#socket.end();
  }

  close(): void {
    const socket = this.#socket;
    // With allowHalfOpen, end() alone would wait for the peer's FIN: close
    // fully as soon as our queued bytes are handed to the kernel. Once the
    // peer's FIN is in, net.Socket's autoDestroy does that by itself.
    if (socket.writableFinished) socket.destroy();
    else {
      if (!socket.readableEnded) socket.once("finish", destroySocket);
      socket.end();
    }
  }

  destroy(): void {
    this.#socket.destroy();
  }

  setNoDelay(enable: boolean): void {
    // A TCP option: meaningless on a Unix domain socket, so ignored there.
    if (this.#unix === undefined) this.#socket.setNoDelay(enable);
  }

  setKeepAlive(enable: boolean): void {
    if (this.#unix === undefined) this.#socket.setKeepAlive(enable);
  }

  get localAddress(): Address {
    this.#local ??= this.#unix !== undefined
      ? { path: this.#unix.local }
      : inetAddress(this.#socket.localAddress, this.#socket.localPort, this.#socket.localFamily);
    return this.#local;
  }

  get remoteAddress(): Address {
    this.#remote ??= this.#unix !== undefined
      ? { path: this.#unix.remote }
      : inetAddress(this.#socket.remoteAddress, this.#socket.remotePort, this.#socket.remoteFamily);
    return this.#remote;
  }
}
