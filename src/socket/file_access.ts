/**
 * How a `StreamSocket` reaches the runtime's files for `sendfile()`.
 *
 * The runtime adapters build `StreamSocket`s, so `stream_socket.ts` cannot
 * import the adapter loader (`runtime/detect.ts`) without closing an import
 * cycle. Instead the code that makes sockets hands the loader over before
 * the first socket exists: `runtimeAdapter()`, on every call (each tcp, unix
 * and tls socket comes from an adapter it loaded), and
 * `memory().connect()`, which needs no adapter for its sockets but reads
 * files through one all the same.
 *
 * @module
 */
import { UnsupportedError } from "../errors.ts";
import type { RuntimeAdapter } from "../runtime/adapter.ts";

/** The part of the runtime adapter that reads files. */
export type FileAccess = Pick<RuntimeAdapter, "openFileRange">;

let load: (() => Promise<FileAccess>) | undefined;

/** Sets how to load the runtime's file access; the first loader given stays. */
export function provideFileAccess(loader: () => Promise<FileAccess>): void {
  load ??= loader;
}

/** The runtime's file access; rejects when no socket maker provided it (a socket built by hand). */
export function fileAccess(): Promise<FileAccess> {
  if (load === undefined) {
    return Promise.reject(
      new UnsupportedError("sendfile()", "this socket", "it was made by no transport, so no runtime adapter is loaded"),
    );
  }
  return load();
}
