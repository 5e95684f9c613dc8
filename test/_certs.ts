/**
 * Test certificates and the TLS tests' shared pieces. The certificates are
 * made with the `openssl` command line once per process
 * in a temporary folder: a CA, server certificates for several names, a
 * client certificate, and a self-signed "rogue" client the CA never signed.
 *
 * The openssl CLI rather than a JavaScript library (`@peculiar/x509`,
 * `selfsigned`): it is the same tool the real-peer tests run against, it
 * works identically under Node.js, Deno and Bun through
 * `node:child_process`, and it adds no dependency. The tests that need it
 * skip (saying why) when it is missing.
 *
 * @module
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Listener, Socket } from "../mod.ts";
import { tls, type TlsConnectOptions, type TlsOptions } from "../transports/tls.ts";

/** A certificate and its key, as PEM text and as file paths. */
export interface CertFiles {
  cert: string;
  key: string;
  certPath: string;
  keyPath: string;
}

/** Everything the TLS tests use. */
export interface TestCerts {
  dir: string;
  /** The CA's certificate (PEM) and its path. */
  ca: string;
  caPath: string;
  /** CN localhost; SAN localhost, 127.0.0.1, ::1. */
  server: CertFiles;
  /** SAN a.example. */
  a: CertFiles;
  /** SAN b.example. */
  b: CertFiles;
  /** A client certificate the CA signed (CN client). */
  client: CertFiles;
  /** A self-signed client certificate (CN rogue). */
  rogue: CertFiles;
}

/** Why the TLS tests that need openssl skip, or `false` when it is there. */
export const opensslMissing: string | false = (() => {
  const probe = spawnSync("openssl", ["version"], { encoding: "utf8" });
  return probe.status === 0 ? false : "the openssl command is not installed (apt-get install openssl)";
})();

let made: TestCerts | undefined;

/** The test certificates, made on first call. */
export function testCerts(): TestCerts {
  if (opensslMissing) throw new Error(opensslMissing);
  made ??= makeCerts();
  return made;
}

function openssl(dir: string, args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

function makeCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), "corral-certs-"));
  globalThis.process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  openssl(dir, [
    "req",
    "-x509",
    ...EC,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=Corral Test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]); // deno-fmt-ignore
  const signed = (name: string, cn: string, san: string, usage: string): CertFiles => {
    openssl(dir, ["req", ...EC, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${cn}`]);
    writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${san}\nextendedKeyUsage=${usage}\n`);
    openssl(dir, [
      "x509", "-req", "-in", `${name}.csr`, "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
      "-out", `${name}.pem`, "-days", "2", "-extfile", `${name}.ext`,
    ]); // deno-fmt-ignore
    return files(dir, name);
  };
  const server = signed("server", "localhost", "DNS:localhost,IP:127.0.0.1,IP:::1", "serverAuth");
  const a = signed("a", "a.example", "DNS:a.example", "serverAuth");
  const b = signed("b", "b.example", "DNS:b.example", "serverAuth");
  const client = signed("client", "client", "DNS:client", "clientAuth");
  openssl(dir, [
    "req",
    "-x509",
    ...EC,
    "-keyout",
    "rogue.key",
    "-out",
    "rogue.pem",
    "-days",
    "2",
    "-subj",
    "/CN=rogue",
    "-addext",
    "subjectAltName=DNS:rogue",
    "-addext",
    "extendedKeyUsage=clientAuth",
  ]); // deno-fmt-ignore
  return {
    dir,
    ca: readFileSync(join(dir, "ca.pem"), "utf8"),
    caPath: join(dir, "ca.pem"),
    server,
    a,
    b,
    client,
    rogue: files(dir, "rogue"),
  };
}

function files(dir: string, name: string): CertFiles {
  const certPath = join(dir, `${name}.pem`);
  const keyPath = join(dir, `${name}.key`);
  return { cert: readFileSync(certPath, "utf8"), key: readFileSync(keyPath, "utf8"), certPath, keyPath };
}

/** Listen options for a TLS listener on 127.0.0.1 with the localhost certificate. */
export function serverOptions(extra: TlsOptions = {}): TlsOptions {
  const certs = testCerts();
  return { host: "127.0.0.1", port: 0, cert: certs.server.cert, key: certs.server.key, ...extra };
}

/** Connects to a TLS listener as "localhost", trusting the test CA. */
export function connectTls(listener: Listener<unknown>, extra: Partial<TlsConnectOptions> = {}): Promise<Socket> {
  return tls().connect({ port: listener.port!, serverName: "localhost", ca: testCerts().ca, ...extra });
}
