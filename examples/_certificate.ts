/** A throwaway certificate for the TLS examples, made with the `openssl` command. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exit } from "./_args.ts";

/**
 * Makes a self-signed certificate for localhost, 127.0.0.1 and ::1 in a
 * temporary folder removed at exit, and returns the paths of its files.
 * Without openssl, the program ends with a one-line message.
 */
export function selfSignedCertificate(program: string): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), `corral-${program}-`));
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
    const missing = (error as { code?: string }).code === "ENOENT";
    exit(
      program,
      missing
        ? "making a certificate needs the openssl command, which is not installed"
        : `openssl could not make a certificate: ${(error as Error).message}`,
    );
  }
  return { cert, key };
}
