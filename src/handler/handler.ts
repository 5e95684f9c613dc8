/**
 * Push-mode protocols (Thousand Island's `Handler`): callbacks per event
 * instead of one async function per connection.
 *
 * @module
 */
import type { Connection } from "../connection.ts";
import type { Handler } from "./types.ts";
import { type DirectStart, type ProtocolEndListener, START_DIRECT } from "../direct_start.ts";
import type { Protocol } from "../listen_options.ts";
import { integerOption } from "../options.ts";
import { StreamSocket } from "../socket/stream_socket.ts";
import { HandlerRun } from "./_handler_run.ts";
import { PullPump } from "./_pull_pump.ts";
import { ScopedSource } from "./_scoped_source.ts";
import { captureScope, connectionTracing, isTraced } from "../telemetry/channels.ts";
import type { PushSource } from "../socket/push_sink.ts";

export type { Handler } from "./types.ts";

const CALLBACKS = ["connection", "data", "end", "timeout", "shutdown", "error", "close"] as const;

/**
 * Makes a push-mode {@linkcode Protocol} from callbacks: `data` is called for
 * each chunk as it arrives, without the promise and async frame per chunk
 * that `for await` costs. It plugs into `listen()`, `testProtocol`, every
 * transport, TLS and PROXY headers like any protocol, with the same failure
 * isolation, counters and shutdown. Pick it for protocols that react to
 * bytes (echo, proxies, parsers that keep their own state); pick a function
 * protocol for request/response flows that read like a story.
 *
 * @param spec The callbacks; only `data` is required. See {@linkcode Handler} for the life of a connection.
 * @returns A protocol for `listen({ protocol })`.
 * @throws {TypeError} When `data` is missing or a callback is not a function, or `idleTimeout` is not a number.
 * @throws {RangeError} When `idleTimeout` is not an integer from 1.
 * @example An echo server, and a counter kept in the connection's state
 * ```ts
 * import assert from "node:assert/strict";
 * import { handler, listen, memory } from "../../mod.ts";
 * const echo = handler({
 *   connection: () => ({ bytes: 0 }),
 *   data(chunk, socket, state) {
 *     state.bytes += chunk.length;
 *     socket.send(chunk);
 *   },
 *   end(socket, state) {
 *     socket.send(`${state.bytes} bytes\n`);
 *   },
 * });
 * await using _listener = await listen({ transport: memory({ name: "doc-handler" }), protocol: echo });
 * const client = await memory().connect({ name: "doc-handler" });
 * await client.send("hello");
 * await client.shutdown("write");
 * let reply = "";
 * for await (const chunk of client) reply += new TextDecoder().decode(chunk);
 * assert.equal(reply, "hello5 bytes\n");
 * ```
 */
export function handler<S = undefined, P = unknown>(spec: Handler<S, P>): Protocol<P> {
  checkHandler(spec);
  // Called as a function (by a protocol that wraps this one), the end settles a promise.
  const protocol: Protocol<P> = (conn, options) =>
    new Promise<void>((resolve, reject) => {
      const owner = { protocolEnded: (_: unknown, threw: boolean, error?: unknown) => threw ? reject(error) : resolve() };
      startDirect(spec, conn, options, owner);
    });
  // Started by the supervisor, the end is a call: no promise or closure is kept per connection.
  const direct: DirectStart<Connection<P>> = (conn, options, owner) => startDirect(spec, conn, options as P, owner);
  return Object.assign(protocol, { [START_DIRECT]: direct });
}

function startDirect<S, P>(
  spec: Handler<S, P>,
  conn: Connection<P>,
  options: P,
  owner: ProtocolEndListener<Connection<P>>,
): void {
  conn.handshake().then(
    (socket) => {
      let source: PushSource = socket instanceof StreamSocket ? socket : new PullPump(socket);
      // Traced: the callbacks, called from the read path, run in the connection's context (its span).
      const scope = isTraced(connectionTracing) ? captureScope() : undefined;
      if (scope !== undefined) source = new ScopedSource(source, scope);
      new HandlerRun(spec, socket, source).start(conn, options, owner);
    },
    (error) => owner.protocolEnded(conn, true, error),
  );
}

function checkHandler(spec: unknown): void {
  if (spec === null || typeof spec !== "object") {
    throw new TypeError(`handler(spec): spec must be an object of callbacks, got ${spec === null ? "null" : typeof spec}`);
  }
  const callbacks = spec as Record<string, unknown>;
  if (typeof callbacks.data !== "function") {
    throw new TypeError(`handler(spec): spec.data must be a function, got ${typeof callbacks.data}`);
  }
  for (const name of CALLBACKS) {
    const value = callbacks[name];
    if (value !== undefined && typeof value !== "function") {
      throw new TypeError(`handler(spec): spec.${name} must be a function, got ${typeof value}`);
    }
  }
  if (callbacks.idleTimeout !== undefined) {
    integerOption("handler(spec): spec.idleTimeout", callbacks.idleTimeout, 1, 2 ** 31 - 1, 0);
  } else if (callbacks.timeout !== undefined) {
    throw new TypeError("handler(spec): spec.timeout needs spec.idleTimeout (the ms of silence that call it)");
  }
}
