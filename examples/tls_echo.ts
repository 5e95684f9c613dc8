/**
 * The echo example over TLS: the same protocol as examples/echo.ts, with
 * `tcp({...})` swapped for `tls({...})`.
 *
 *   node scripts/run.mjs examples/tls_echo.ts --port 5556 [--cert server.pem --key server.key]
 *   deno run -A examples/tls_echo.ts --port 5556
 *   bun run examples/tls_echo.ts --port 5556
 *
 * Without --cert and --key it makes a self-signed certificate for
 * localhost / 127.0.0.1 at start, with the `openssl` command line (the one
 * outside program this example needs; it exits with a message saying so
 * when openssl is missing). Try it with:
 *
 *   openssl s_client -connect 127.0.0.1:5556 -CAfile <the certificate it prints>
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listen, tls } from "../mod.ts";
import { flag, stopOnSignal } from "./_args.ts";
import { echo } from "./echo_protocol.ts";

/** Makes a self-signed certificate for localhost in a temporary folder, removed at exit. */
function selfSignedCertificate(): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), "corral-tls-echo-"));
  globalThis.process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  try {
    execFileSync("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=localhost",
      "-addext",
      "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1",
      "-addext",
      "basicConstraints=critical,CA:FALSE",
      "-keyout",
      key,
      "-out",
      cert,
    ], { stdio: ["ignore", "ignore", "pipe"] }); // deno-fmt-ignore
  } catch (error) {
    const missing = (error as { code?: string }).code === "ENOENT";
    console.error(
      missing
        ? "tls_echo: no --cert/--key given and the openssl command is not installed to make a certificate"
        : `tls_echo: openssl could not make a certificate: ${(error as Error).message}`,
    );
    globalThis.process.exit(2);
  }
  return { cert, key };
}

const host = flag("host", "127.0.0.1");
const given = { cert: flag("cert", ""), key: flag("key", "") };
const { cert, key } = given.cert !== "" && given.key !== "" ? given : selfSignedCertificate();

const listener = await listen({
  ref: "tls_echo",
  transport: tls({ host, port: Number(flag("port", "5556")), cert, key }),
  protocol: echo,
});
console.log(`tls echo listening on ${host}:${listener.port} (certificate ${cert})`);
stopOnSignal(() => listener.stop());
