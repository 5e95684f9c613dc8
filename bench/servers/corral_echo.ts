/**
 * The Corral echo server, one file for every runtime: the idiomatic
 * protocol over `tcp()`, started with `listen()` from `mod.ts`.
 *
 *   node --expose-gc bench/build/corral_echo.mjs [--port N]   (bundled by bench/run.mjs;
 *                                                            or node scripts/run.mjs bench/servers/corral_echo.ts)
 *   deno run -A --v8-flags=--expose-gc bench/servers/corral_echo.ts [--port N]
 *   bun run bench/servers/corral_echo.ts [--port N]
 *
 * @module
 */
import { listen, type Protocol, tcp } from "../../mod.ts";
import { control, flag } from "./_control.ts";

const echo: Protocol = async (conn) => {
  const socket = await conn.handshake();
  for await (const chunk of socket) await socket.send(chunk);
};

const listener = await listen({
  ref: "bench-echo",
  transport: tcp({ host: "127.0.0.1", port: Number(flag("port", "0")) }),
  protocol: echo,
  // The idle scenario holds 10,000 connections; Ranch's default of 1024 would queue the rest.
  maxConnections: Infinity,
  shutdownTimeout: "brutal",
});
control(listener.port!, () => listener.stop());
