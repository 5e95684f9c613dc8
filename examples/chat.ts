/**
 * The seed's chat server (what `npm start` runs): `JOIN room`, then every
 * line goes to the room's other members. See chat_protocol.ts.
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
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listen, tcp, tls, type Transport } from "../mod.ts";
import { flag, stopOnSignal } from "./_args.ts";
import { chat } from "./chat_protocol.ts";

const host = flag("host", "127.0.0.1");
const port = Number(flag("port", "4040"));
const idleTimeout = Number(flag("idle-timeout", "600000"));

let transport: Transport = tcp({ host, port });
let how = "";
if (globalThis.process.argv.includes("--tls")) {
  const { cert, key } = selfSignedCertificate();
  transport = tls({ host, port, cert, key });
  how = ` over TLS (self-signed certificate for localhost: ${cert})`;
}

const listener = await listen({
  ref: "chat",
  transport,
  protocol: chat({ idleTimeout: idleTimeout > 0 ? idleTimeout : undefined }),
});
console.log(`chat listening on ${host}:${listener.port}${how}`);
stopOnSignal(() => listener.stop());

/** Makes a throwaway certificate for localhost, 127.0.0.1 and ::1, removed at exit. */
function selfSignedCertificate(): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), "corral-chat-"));
  globalThis.process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  const cert = join(dir, "cert.pem"), key = join(dir, "key.pem");
  try {
    execFileSync("openssl", [
      "req",
      "-x509",
      ...["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "30"],
      ...["-keyout", key, "-out", cert, "-subj", "/CN=localhost"],
      ...["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1"],
      // An end-entity certificate: rustls (Deno) refuses a CA certificate as a server's own.
      ...["-addext", "basicConstraints=critical,CA:FALSE", "-addext", "extendedKeyUsage=serverAuth"],
    ], { stdio: ["ignore", "ignore", "pipe"] });
  } catch (error) {
    console.error(`chat: --tls makes its certificate with the openssl command, which failed: ${error}`);
    globalThis.process.exit(2);
  }
  return { cert, key };
}
