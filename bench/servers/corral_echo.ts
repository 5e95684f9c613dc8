/**
 * The Corral echo server, one file for every runtime: the idiomatic
 * protocol over `tcp()`, or over `tls()` when given a certificate, started
 * with `listen()` from `mod.ts`.
 *
 *   node --expose-gc bench/build/corral_echo.mjs [--port N] [--cert FILE --key FILE]
 *     (bundled by bench/run.mjs; or node scripts/run.mjs bench/servers/corral_echo.ts)
 *   deno run -A --v8-flags=--expose-gc bench/servers/corral_echo.ts [--port N] [--cert FILE --key FILE]
 *   bun run bench/servers/corral_echo.ts [--port N] [--cert FILE --key FILE]
 *
 * @module
 */
import { listen, type Protocol, tcp, tls } from "../../mod.ts";
import { control, flag } from "./_control.ts";

const echo: Protocol = async (conn) => {
  const socket = await conn.handshake();
  for await (const chunk of socket) await socket.send(chunk);
};

const address = { host: "127.0.0.1", port: Number(flag("port", "0")) };
const cert = flag("cert", "");
const listener = await listen({
  ref: "bench-echo",
  // tls() reads the certificate and key files itself (it takes PEM text or paths).
  transport: cert === "" ? tcp(address) : tls({ ...address, cert, key: flag("key", "") }),
  protocol: echo,
  // The idle scenario holds 10,000 connections; Ranch's default of 1024 would queue the rest.
  maxConnections: Infinity,
  shutdownTimeout: "brutal",
});
control(listener.port!, () => listener.stop());
