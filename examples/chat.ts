/**
 * The chat server (what `npm start` runs): `JOIN room`, then every line
 * goes to the room's other members. See chat_protocol.ts.
 *
 *   node scripts/run.mjs examples/chat.ts [--port 4040] [--host 127.0.0.1] [--idle-timeout ms] [--tls]
 *   deno run -A examples/chat.ts
 *   bun run examples/chat.ts
 *
 * `--idle-timeout 0` keeps silent clients forever (default: 10 minutes).
 * `--tls` serves TLS with a self-signed certificate for localhost made at
 * start with the `openssl` command (the first line printed names its file,
 * for clients that verify). Ctrl-C stops the server: every client gets
 * `BYE server shutting down` first.
 */
import { listen, tcp, tls, type Transport } from "../mod.ts";
import { flag, numberFlag, startOrExit, stopOnSignal } from "./_args.ts";
import { selfSignedCertificate } from "./_certificate.ts";
import { chat } from "./chat_protocol.ts";

const host = flag("host", "127.0.0.1");
const port = numberFlag("chat", "port", 4040);
const idleTimeout = numberFlag("chat", "idle-timeout", 600000);
const overTls = globalThis.process.argv.includes("--tls");
const certificate = overTls ? selfSignedCertificate("chat") : undefined;

const listener = await startOrExit("chat", () => {
  const transport: Transport = certificate ? tls({ host, port, ...certificate }) : tcp({ host, port });
  return listen({ ref: "chat", transport, protocol: chat({ idleTimeout: idleTimeout > 0 ? idleTimeout : undefined }) });
});
const how = certificate ? ` over TLS (self-signed certificate for localhost: ${certificate.cert})` : "";
console.log(`chat listening on ${host}:${listener.port}${how}`);
stopOnSignal(() => listener.stop());
