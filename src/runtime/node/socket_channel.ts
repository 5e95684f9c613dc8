/**
 * A `ByteChannel` over a `node:net` socket (and, later, a `node:tls` one,
 * which is the same class underneath).
 *
 * @module
 */
import type { Socket as NetSocket } from "node:net";
import type { ByteChannel, ChannelSink } from "../../byte_channel.ts";
import type { Address } from "../../transport.ts";

/** Events wired once per connection; nothing is allocated per chunk. */
export class NodeSocketChannel implements ByteChannel {
  #socket: NetSocket;
  #unix: { local: string; remote: string } | undefined;
  #local: Address | undefined;
  #remote: Address | undefined;

  /** `unix` marks a Unix domain socket and names both ends' files ("" for an unnamed end). */
  constructor(socket: NetSocket, unix?: { local: string; remote: string }) {
    this.#socket = socket;
    this.#unix = unix;
  }

  start(sink: ChannelSink): void {
    const socket = this.#socket;
    socket.on("data", (chunk: Uint8Array) => sink.onData(chunk));
    socket.on("end", () => sink.onEnd());
    socket.on("drain", () => sink.onDrain());
    socket.on("error", (error) => sink.onError(error));
    socket.on("close", () => sink.onClose());
  }

  pause(): void {
    this.#socket.pause();
  }

  resume(): void {
    this.#socket.resume();
  }

  write(chunk: Uint8Array): boolean {
    return this.#socket.write(chunk);
  }

  end(): void {
    this.#socket.end();
  }

  close(): void {
    const socket = this.#socket;
    // With allowHalfOpen, end() alone would wait for the peer's FIN: close
    // fully as soon as our queued bytes are handed to the kernel.
    if (socket.writableFinished) socket.destroy();
    else {
      socket.once("finish", () => socket.destroy());
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

function inetAddress(address: string | undefined, port: number | undefined, family: string | undefined): Address {
  return {
    address: address ?? "",
    port: port ?? 0,
    family: family === "IPv6" || address?.includes(":") ? "IPv6" : "IPv4",
  };
}
