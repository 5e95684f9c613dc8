/**
 * A `Deno.TlsConn` whose reads tell close_notify from a bare close. Deno's
 * TLS (rustls) rejects a read with `UnexpectedEof` when the peer closed
 * without close_notify; Corral reads that as the end of stream it is on the
 * other runtimes, and records which it was in `TlsInfo.closeNotify`.
 *
 * @module
 */
import type { TlsInfo } from "../../transport.ts";
import type { DenoAddr, DenoConn } from "./deno_types.ts";
import type { DenoTlsConn } from "./tls_types.ts";

/** The name of the error rustls gives a stream cut short (its "unexpected-eof" how-to). */
const UNEXPECTED_EOF = "UnexpectedEof";

/** The connection as `ConnChannel` reads it: a truncated stream ends with `null`. */
export class TruncationAwareConn implements DenoConn {
  #conn: DenoTlsConn;
  #info: TlsInfo;
  // Bound once per connection: no closure per read.
  #ended = this.#onEnd.bind(this);
  #failed = this.#onFailure.bind(this);

  constructor(conn: DenoTlsConn, info: TlsInfo) {
    this.#conn = conn;
    this.#info = info;
  }

  read(p: Uint8Array): Promise<number | null> {
    return this.#conn.read(p).then(this.#ended, this.#failed);
  }

  #onEnd(result: number | null): number | null {
    if (result === null) this.#info.closeNotify ??= true;
    return result;
  }

  #onFailure(error: unknown): null {
    if ((error as { name?: unknown } | null)?.name !== UNEXPECTED_EOF) throw error;
    this.#info.closeNotify = false;
    return null;
  }

  write(p: Uint8Array): Promise<number> {
    return this.#conn.write(p);
  }

  closeWrite(): Promise<void> {
    return this.#conn.closeWrite();
  }

  close(): void {
    this.#conn.close();
  }

  get localAddr(): DenoAddr {
    return this.#conn.localAddr;
  }

  get remoteAddr(): DenoAddr {
    return this.#conn.remoteAddr;
  }
}
