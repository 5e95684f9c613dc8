/**
 * `node:tls` over a stream Corral reads itself (a "carrier"), which is how a
 * TLS peer's close_notify is told from a bare close of its connection.
 *
 * No runtime's TLS tells them apart once the engine owns the socket:
 * Node.js's TLSWrap (src/crypto/crypto_tls.cc) hands both to JavaScript as
 * the same `UV_EOF`, Deno's and Bun's `node:tls` emit the same `end`, and
 * Bun's native TLS sockets call the same `end` handler. Over a carrier the order shows it: the engine decodes each
 * chunk as it is handed over, so when close_notify came, the TLS stream has
 * ended before the carrier hands over its own end; when it did not, the
 * carrier's end is what ends the TLS stream.
 *
 * Reading is paused at the carrier (`hold()`), never on the TLS socket:
 * Deno's `node:tls` (2.9.6) loses the end of a TLS socket that was paused
 * when its peer's end came in (the bytes are kept since denoland/deno#33524,
 * the end is not), so a slow reader would wait for ever.
 *
 * @module
 */
import type { Socket as NetSocket } from "node:net";
import { Duplex } from "node:stream";
import type * as tls from "node:tls";
import { ClosedError } from "../../errors.ts";
import type { ByteChannel, ChannelSink } from "../../socket/byte_channel.ts";
import type { Address, TlsInfo } from "../../transport.ts";
import { NodeSocketChannel } from "./net_socket_channel.ts";

/**
 * `_readableState.ended` is set when the end is pushed, `readableEnded`
 * only when it is emitted (later, after buffered data is read). Node.js,
 * Deno and Bun share this stream implementation.
 */
interface ReadableInternals {
  _readableState?: { ended?: boolean };
}

/** Watches a carrier's end against its TLS stream's, and records the verdict in `TlsInfo.closeNotify`. */
export class CloseNotifyWatch {
  #secure: tls.TLSSocket | undefined;
  #carrierEnded = false;
  #secureEndedFirst = false;

  /** Call before the TLS socket is made over `carrier`, so this runs before the engine hears of the end. */
  constructor(carrier: Duplex) {
    carrier.prependOnceListener("end", () => {
      this.#carrierEnded = true;
      const secure = this.#secure as (tls.TLSSocket & ReadableInternals) | undefined;
      this.#secureEndedFirst = secure !== undefined &&
        (secure._readableState?.ended === true || secure.readableEnded);
    });
  }

  /** Sets `info.closeNotify` as `secure` ends, before anyone reading it sees the end. */
  attach(secure: tls.TLSSocket, info: TlsInfo): void {
    this.#secure = secure;
    secure.prependOnceListener("end", () => {
      info.closeNotify = this.#carrierEnded ? this.#secureEndedFirst : true;
    });
  }
}

/**
 * The stream under a TLS socket: the TLS engine pulls from it, and Corral
 * can hold it, which is how a carried TLS socket pauses.
 */
export abstract class Carrier extends Duplex {
  #held = false;
  /** The TLS side asked for bytes and has not refused any since. */
  #wanted = false;

  constructor() {
    super({ allowHalfOpen: true });
  }

  override _read(): void {
    this.#wanted = true;
    if (!this.#held) this.pull();
  }

  /** Takes bytes from underneath now; they come back through `deliver`. */
  protected abstract pull(): void;

  /** Stops taking bytes from underneath. */
  protected abstract stop(): void;

  /** Hands bytes (or the end, `null`) to the TLS engine; false once it wants no more for now. */
  protected deliver(chunk: Uint8Array | null): boolean {
    const more = this.push(chunk);
    if (!more) this.#wanted = false;
    return more && !this.#held;
  }

  /** Holds reading (the TLS socket above stays flowing) or lets it go on. */
  hold(held: boolean): void {
    if (held === this.#held) return;
    this.#held = held;
    if (held) this.stop();
    else if (this.#wanted) this.pull();
  }
}

/** A `node:net` socket as a plain stream: `node:tls` then runs over Corral's reads of it. */
export class NetCarrier extends Carrier {
  readonly raw: NetSocket;

  constructor(raw: NetSocket) {
    super();
    this.raw = raw;
    raw.on("data", (chunk: Uint8Array) => {
      if (!this.deliver(chunk)) raw.pause();
    });
    raw.on("end", () => this.deliver(null));
    raw.on("error", (error) => this.destroy(error));
    raw.on("close", () => this.destroy());
  }

  protected pull(): void {
    this.raw.resume();
  }

  protected stop(): void {
    this.raw.pause();
  }

  override _write(chunk: Uint8Array, _encoding: string, done: (error?: Error | null) => void): void {
    // Taken at once while under the socket's mark, so records are not written one round trip apart.
    if (this.raw.write(chunk)) done();
    else this.raw.once("drain", () => done());
  }

  override _final(done: (error?: Error | null) => void): void {
    // Finished once the kernel has every byte: the channel destroys the TLS socket only then.
    this.raw.end(() => done());
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    this.raw.destroy();
    done(error);
  }
}

/** What a carried TLS socket takes from the connection underneath: addresses, TCP options, teardown. */
export interface CarrierEnds {
  readonly localAddress: Address;
  readonly remoteAddress: Address;
  setNoDelay(enable: boolean): void;
  setKeepAlive(enable: boolean): void;
  destroy(): void;
}

/** The `CarrierEnds` of a `node:net` socket, its addresses taken now (they vanish once it closes). */
export function netEnds(raw: NetSocket, local: Address, remote: Address): CarrierEnds {
  return {
    localAddress: local,
    remoteAddress: remote,
    setNoDelay: (enable) => raw.setNoDelay(enable),
    setKeepAlive: (enable) => raw.setKeepAlive(enable),
    destroy: () => raw.destroy(),
  };
}

/**
 * The channel of a TLS socket over a carrier, with the addresses and TCP
 * options of the connection underneath (a TLS socket over a stream has neither).
 */
export class CarriedTlsChannel implements ByteChannel {
  #secure: NodeSocketChannel;
  #tls: tls.TLSSocket;
  #carrier: Carrier;
  #ends: CarrierEnds;
  #sink: ChannelSink | undefined;
  /** `end()` or `close()` was called: the carrier's end is ours. */
  #ending = false;

  constructor(secure: tls.TLSSocket, carrier: Carrier, ends: CarrierEnds) {
    this.#secure = new NodeSocketChannel(secure);
    this.#tls = secure;
    this.#carrier = carrier;
    this.#ends = ends;
  }

  start(sink: ChannelSink): void {
    this.#sink = sink;
    this.#secure.start(sink);
  }

  /** At the carrier: what the TLS engine decoded already still arrives (one chunk's worth at most). */
  pause(): void {
    this.#carrier.hold(true);
  }

  resume(): void {
    this.#carrier.hold(false);
  }

  /**
   * Fails loudly once the TLS engine has ended the carrier on its own: Bun's
   * `node:tls` over a stream (its UpgradedDuplex, 1.4.5) does that when the
   * peer's close_notify arrives, and would drop every later byte unsaid.
   */
  write(chunk: Uint8Array): boolean {
    // writableEnded: set as soon as the engine calls end(), before any of it runs.
    if (this.#carrier.writableEnded && !this.#ending) {
      const error = new ClosedError("the TLS layer stopped sending when the peer sent close_notify", "EPIPE");
      // After this call returns, so the send that is waiting for a drain is the one that fails.
      queueMicrotask(() => this.#sink?.onError(error));
      return false;
    }
    return this.#secure.write(chunk);
  }

  end(): void {
    this.#ending = true;
    this.#secure.end();
  }

  /**
   * Ends TLS (close_notify), then closes once the carrier has taken every
   * record: destroying the TLS socket when it alone has finished, as for a
   * native socket, would drop records still queued in the carrier.
   */
  close(): void {
    this.#ending = true;
    const carrier = this.#carrier;
    if (carrier.writableFinished) this.#tls.destroy();
    else {
      carrier.once("finish", () => this.#tls.destroy());
      this.#tls.end();
    }
  }

  destroy(): void {
    this.#secure.destroy();
    this.#ends.destroy();
  }

  setNoDelay(enable: boolean): void {
    this.#ends.setNoDelay(enable);
  }

  setKeepAlive(enable: boolean): void {
    this.#ends.setKeepAlive(enable);
  }

  get localAddress(): Address {
    return this.#ends.localAddress;
  }

  get remoteAddress(): Address {
    return this.#ends.remoteAddress;
  }
}
