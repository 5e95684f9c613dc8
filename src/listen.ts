/**
 * `listen()`: checks the options, names and registers the listener, and
 * opens it. The one module that ties the public types (`ListenOptions`,
 * `Protocol`, `Connection`) to the pool's internals, so those never import
 * the public face back.
 *
 * @module
 */
import type { SupervisedProtocol } from "./supervisor_options.ts";
import { ListenError } from "./errors.ts";
import { checkListenOptions, type ListenOptions, type Protocol } from "./listen_options.ts";
import { type Listener, openListener } from "./listener.ts";
import { forgetListener, getListener, registerListener } from "./listener_registry.ts";

let nextRef = 1;

/**
 * Starts a listener (Ranch's `ranch:start_listener`): opens its listen
 * socket(s), starts `numAcceptors` accept loops, and runs `protocol` once
 * per connection (see {@linkcode Connection} for a connection's life).
 *
 * @param options The transport, the protocol and the pool's settings; every one is checked before anything opens.
 * @returns The running listener, registered under its `ref` until it stops.
 * @throws {TypeError} When an option has the wrong type or is unknown, naming it (the promise rejects).
 * @throws {RangeError} When a number is out of range, such as `numAcceptors: 0`, naming the range.
 * @throws {ListenError} When the listen socket cannot open: `code` `"EADDRINUSE"`, `"EACCES"`, ...;
 * `"EREFINUSE"` when a running listener has the same `ref`; `"NO_CERT"` for `tls` without a certificate.
 * @throws {UnsupportedError} When the runtime cannot do what a transport option asks (such as `reusePort`).
 *
 * @example An echo server
 * ```ts
 * import assert from "node:assert/strict";
 * import { listen, tcp } from "../mod.ts";
 * const listener = await listen({
 *   ref: "doc-echo",
 *   transport: tcp({ host: "127.0.0.1", port: 0 }),
 *   protocol: async (conn) => {
 *     const socket = await conn.handshake();
 *     for await (const chunk of socket) await socket.send(chunk);
 *   },
 * });
 * assert(listener.status === "running" && listener.port! > 0);
 * await listener.stop();
 * ```
 *
 * @example A taken ref is refused like a taken port
 * ```ts
 * import assert from "node:assert/strict";
 * import { listen, ListenError, memory } from "../mod.ts";
 * const first = await listen({ ref: "doc-taken", transport: memory(), protocol: () => {} });
 * const error = await listen({ ref: "doc-taken", transport: memory(), protocol: () => {} }).catch((e) => e);
 * assert(error instanceof ListenError && error.code === "EREFINUSE");
 * await first.stop();
 * ```
 */
export async function listen<P = unknown>(options: ListenOptions<P>): Promise<Listener<P>> {
  const checked = checkListenOptions(options);
  let ref = checked.ref;
  while (ref === undefined || (checked.ref === undefined && getListener(ref) !== undefined)) {
    ref = `listener-${nextRef++}`;
  }
  const name = ref;
  // The record the supervisor makes is what the protocol receives as its
  // Connection: this assignment is where the compiler checks that it is one.
  const protocol: SupervisedProtocol<Listener<unknown>> = checked.protocol as Protocol<unknown>;
  return await openListener<P>({
    ...checked,
    ref,
    protocol,
    register(listener) {
      if (!registerListener(name, listener)) {
        throw new ListenError("EREFINUSE", `listen(): a listener with ref ${JSON.stringify(name)} is already running`);
      }
    },
    unregister: (listener) => forgetListener(name, listener),
  });
}
