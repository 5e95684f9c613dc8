/**
 * Turns Corral's TLS settings into `node:tls` options: secure contexts
 * (made once per certificate, so a bad key fails at `listen()`), the SNI
 * callback and the client's connection options.
 *
 * Also loaded on Deno and Bun, whose `node:tls` runs STARTTLS upgrades.
 *
 * @module
 */
import { isIP } from "node:net";
import * as tls from "node:tls";
import { TLS_CONFIG, TlsConfigError } from "../../tls_config_error.ts";
import type { TlsClientConfig, TlsKeyPair, TlsServerConfig } from "../adapter.ts";
import { checkClientMaterial, checkServerMaterial } from "./tls_material_check.ts";

/** The server options every server-side `TLSSocket` of one listener shares. */
export interface NodeServerTls {
  secureContext: tls.SecureContext;
  SNICallback:
    | ((serverName: string, done: (error: Error | null, context?: tls.SecureContext) => void) => void)
    | undefined;
  ALPNProtocols: string[] | undefined;
  requestCert: boolean;
  rejectUnauthorized: boolean;
}

/**
 * Checks the certificates and makes the contexts now, so a certificate or
 * key that does not load fails at `listen()` with `TlsConfigError`.
 */
export function serverTls(config: TlsServerConfig): NodeServerTls {
  checkServerMaterial(config);
  const { ca, minVersion } = config;
  const context = (pair: TlsKeyPair | undefined) => {
    try {
      return tls.createSecureContext({ ...pair, ca, minVersion });
    } catch (error) {
      throw new TlsConfigError(TLS_CONFIG, `tls() options: the runtime's TLS refused them: ${String(error)}`, {
        cause: error,
      });
    }
  };
  const secureContext = context(config.keyPair);
  const select = config.selectKeyPair;
  let SNICallback: NodeServerTls["SNICallback"];
  if (select !== undefined) {
    // One context per certificate the selector hands out (it returns the same object for the same certificate).
    const contexts = new WeakMap<TlsKeyPair, tls.SecureContext>();
    for (const pair of config.sniKeyPairs) contexts.set(pair, context(pair));
    const hasDefault = config.keyPair !== undefined;
    SNICallback = (serverName, done) => {
      select(serverName).then((pair) => {
        if (pair === undefined) {
          if (hasDefault) done(null, secureContext);
          else done(new Error(`no certificate for server name "${serverName}"`));
          return;
        }
        let found = contexts.get(pair);
        if (found === undefined) contexts.set(pair, found = context(pair));
        done(null, found);
      }).catch((error: unknown) => done(error instanceof Error ? error : new Error(String(error))));
    };
  }
  return {
    secureContext,
    SNICallback,
    ALPNProtocols: config.alpnProtocols,
    requestCert: config.requestCert,
    // Node.js reads rejectUnauthorized only together with requestCert.
    rejectUnauthorized: config.requestCert && config.rejectUnauthorized,
  };
}

/**
 * Client options for `tls.connect`. `host` is where the bytes go; the name
 * the certificate must match is `serverName`, else `host`. An IP address is
 * never sent as SNI (RFC 6066 forbids it; Node.js warns).
 */
export function clientTls(config: TlsClientConfig, host: string | undefined): tls.ConnectionOptions {
  checkClientMaterial(config);
  const name = config.serverName ?? host;
  const options: tls.ConnectionOptions = {
    ca: config.ca,
    ALPNProtocols: config.alpnProtocols,
    rejectUnauthorized: config.rejectUnauthorized,
    minVersion: config.minVersion,
  };
  if (config.keyPair !== undefined) {
    options.cert = config.keyPair.cert;
    options.key = config.keyPair.key;
  }
  if (name !== undefined && isIP(name) === 0) options.servername = name;
  else if (name !== undefined) {
    // No SNI for an address; the certificate is checked against the address.
    options.checkServerIdentity = (_host, cert) => tls.checkServerIdentity(name, cert);
  }
  return options;
}
