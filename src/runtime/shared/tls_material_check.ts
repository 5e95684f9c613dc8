/**
 * Certificates, keys and CAs checked before any runtime's TLS sees them, so
 * unusable text fails the same way everywhere: a `TlsConfigError` with code
 * `ETLSCONFIG` and the runtime's parse error as its cause.
 *
 * Left to each TLS stack, the same garbage PEM is `ERR_OSSL_PEM_BAD_BASE64_DECODE`
 * on Node.js, a `ListenError ELISTEN` from `Deno.listenTls` and nothing at all
 * from Deno's `node:tls`, whose `createSecureContext` parses lazily (the
 * first handshake fails instead). `node:crypto`'s `X509Certificate` and
 * `createPrivateKey` parse eagerly on all three runtimes.
 *
 * @module
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import { TLS_CONFIG, TlsConfigError } from "../../tls_config_error.ts";
import type { TlsClientConfig, TlsKeyPair, TlsServerConfig } from "../adapter.ts";

const CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * Texts already found good: a client connecting again with the same `ca`
 * or certificate is not parsed again. Bounded, so changing material cannot
 * grow it without end.
 */
const checked = new Set<string>();
const CHECKED_MAX = 64;

function remember(text: string): void {
  if (checked.size >= CHECKED_MAX) checked.clear();
  checked.add(text);
}

function unusable(what: string, problem: string, cause: unknown): TlsConfigError {
  const reason = cause instanceof Error ? `: ${cause.message}` : "";
  return new TlsConfigError(TLS_CONFIG, `${what} ${problem}${reason}`, { cause });
}

/** Parses every certificate in `pem`; the first is the leaf of a chain. */
function certificates(pem: string, what: string): X509Certificate[] {
  const blocks = pem.match(CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new TlsConfigError(TLS_CONFIG, `${what} holds no PEM certificate`);
  return blocks.map((block) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw unusable(what, "is not a valid PEM certificate", error);
    }
  });
}

function checkCertificates(pem: string, what: string): void {
  if (checked.has(pem)) return;
  certificates(pem, what);
  remember(pem);
}

/** Checks that `pair.cert` is a certificate chain and `pair.key` the private key of its leaf. */
function checkKeyPair(pair: TlsKeyPair, what: string): void {
  const both = `${pair.cert}\n${pair.key}`;
  if (checked.has(both)) return;
  const [leaf] = certificates(pair.cert, `${what} cert`);
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey(pair.key);
  } catch (error) {
    // The parser's message names the problem, never the key's text.
    throw unusable(`${what} key`, "is not a usable PEM private key", error);
  }
  if (!leaf!.checkPrivateKey(key)) {
    throw new TlsConfigError(TLS_CONFIG, `${what} key is not the private key of its certificate`);
  }
  remember(both);
}

/** Checks a listener's (or a STARTTLS server's) certificates; throws `TlsConfigError`. */
export function checkServerMaterial(config: TlsServerConfig): void {
  if (config.keyPair !== undefined) checkKeyPair(config.keyPair, "tls() option");
  for (const pair of config.sniKeyPairs) checkKeyPair(pair, "tls() option sni");
  for (const ca of config.ca ?? []) checkCertificates(ca, "tls() option ca");
}

/** Checks a client's CA and certificate; throws `TlsConfigError`. */
export function checkClientMaterial(config: TlsClientConfig): void {
  if (config.keyPair !== undefined) checkKeyPair(config.keyPair, "tls client option");
  for (const ca of config.ca ?? []) checkCertificates(ca, "tls client option ca");
}
