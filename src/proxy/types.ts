/**
 * The PROXY protocol's public types: the header, its TLVs, the parse result
 * and the error codes. They live apart from the parsers and builders so that
 * those import types from here and the entry file imports the parsers, with
 * no cycle between them.
 *
 * @module
 */
/** `"proxy"`: relayed for a client; `"local"`: opened by the proxy itself (health checks, v2 only). */
export type ProxyCommand = "local" | "proxy";

/** The client connection's address family: AF_INET, AF_INET6, AF_UNIX or AF_UNSPEC (unknown). */
export type ProxyFamily = "inet" | "inet6" | "unix" | "unspec";

/** The client connection's socket type: SOCK_STREAM (TCP), SOCK_DGRAM (UDP) or unknown. */
export type ProxyProtocol = "stream" | "dgram" | "unspec";

/** The `PP2_TYPE_SSL` TLV: how the client reached the proxy over TLS. */
export interface ProxySslInfo {
  /** `PP2_CLIENT_SSL`: the client connected over TLS. */
  ssl: boolean;
  /** `PP2_CLIENT_CERT_CONN`: the client sent a certificate on this connection. */
  certificateOnConnection: boolean;
  /** `PP2_CLIENT_CERT_SESS`: the client sent a certificate at least once in this TLS session. */
  certificateInSession: boolean;
  /** Whether the client's certificate was verified (the `verify` field is 0). */
  verified: boolean;
  /** `PP2_SUBTYPE_SSL_VERSION`, such as `"TLSv1.3"`. */
  version?: string;
  /** `PP2_SUBTYPE_SSL_CN`: the Common Name of the client certificate's subject. */
  commonName?: string;
  /** `PP2_SUBTYPE_SSL_CIPHER`, such as `"ECDHE-RSA-AES128-GCM-SHA256"`. */
  cipher?: string;
  /** `PP2_SUBTYPE_SSL_SIG_ALG`: the signature algorithm of the proxy's certificate, such as `"SHA256"`. */
  signatureAlgorithm?: string;
  /** `PP2_SUBTYPE_SSL_KEY_ALG`: the key algorithm of the proxy's certificate, such as `"RSA2048"`. */
  keyAlgorithm?: string;
  /** Sub-TLVs this version does not know, in the order they came. */
  unknown?: ProxyRawTlv[];
}

/** A TLV kept as it came: its type byte and its value. */
export interface ProxyRawTlv {
  /** The type byte, 0 to 255. */
  type: number;
  /** The value bytes. */
  value: Uint8Array;
}

/**
 * The TLVs of a v2 header. `CRC32C` is verified while parsing and written
 * by `buildProxyHeader(..., { checksum: "crc32c" })`; `NOOP` is padding; so
 * neither shows here. Empty for v1 headers.
 */
export interface ProxyTlvs {
  /** `PP2_TYPE_ALPN`: the application protocol the client negotiated, such as `"h2"`. */
  alpn?: string;
  /** `PP2_TYPE_AUTHORITY`: the host name the client asked for (the TLS SNI). */
  authority?: string;
  /** `PP2_TYPE_UNIQUE_ID`: an opaque id of the connection, at most 128 bytes. */
  uniqueId?: Uint8Array;
  /** `PP2_TYPE_SSL`: the client's TLS connection to the proxy. */
  ssl?: ProxySslInfo;
  /** `PP2_TYPE_NETNS`: the network namespace the proxy accepted in. */
  netns?: string;
  /** Every other TLV (custom 0xE0–0xEF ones such as AWS's 0xEA, and future types), in order. */
  unknown?: ProxyRawTlv[];
}

/**
 * A parsed PROXY header. Addresses are text: `"192.0.2.1"`, `"2001:db8::1"`
 * (written as the runtimes print peer addresses), or a socket path.
 * `sourceAddress` and `destinationAddress` are present for the `inet`,
 * `inet6` and `unix` families, the ports for `inet` and `inet6`; a `local`
 * or `unspec` header carries none (use the socket's own addresses).
 */
export interface ProxyHeader {
  /** 1 (text) or 2 (binary). */
  version: 1 | 2;
  /** `"proxy"`, or `"local"` for the proxy's own connections (v2). */
  command: ProxyCommand;
  /** The client connection's address family. */
  family: ProxyFamily;
  /** The client connection's socket type. */
  protocol: ProxyProtocol;
  /** The client's address. */
  sourceAddress?: string;
  /** The client's port. */
  sourcePort?: number;
  /** The address the client connected to (on the proxy). */
  destinationAddress?: string;
  /** The port the client connected to (on the proxy). */
  destinationPort?: number;
  /** The v2 TLVs; `{}` when there are none. */
  tlvs: ProxyTlvs;
}

/** What `buildProxyHeader` takes: a {@linkcode ProxyHeader} in which `version`, `command` and `tlvs` may be left out. */
export type ProxyHeaderInit = Omit<ProxyHeader, "version" | "command" | "tlvs"> & {
  /** 1 or 2; the `version` option wins. Default 2. */
  version?: 1 | 2;
  /** Default `"proxy"`. */
  command?: ProxyCommand;
  /** Default none. */
  tlvs?: ProxyTlvs;
};

/** Options of {@linkcode buildProxyHeader}. */
export interface BuildProxyHeaderOptions {
  /** The format: 1 (text) or 2 (binary). Default: the header's `version`, else 2. */
  version?: 1 | 2;
  /** `"crc32c"` appends a `CRC32C` TLV so the receiver can check the header (v2 only). */
  checksum?: "crc32c";
  /** Appends a `NOOP` TLV of exactly this many bytes (3 to 65535, v2 only), as Ranch's `padding`. */
  padding?: number;
}

/** A complete header: what it says, its size, and the bytes after it. */
export interface ParsedProxyHeader {
  /** The header. */
  header: ProxyHeader;
  /** How many bytes the header took. */
  length: number;
  /** The bytes after the header (a view into the input, not a copy). */
  rest: Uint8Array;
}

/**
 * The bytes so far are a valid beginning of a header. `needMore` is a lower
 * bound on the bytes still missing: reading exactly that many more never
 * reads past the end of the header, so a reader can take the header off a
 * stream without consuming anything after it.
 */
export interface IncompleteProxyHeader {
  /** No header yet. */
  header: undefined;
  /** How many more bytes to read at least (1 or more). */
  needMore: number;
}

/** What {@linkcode parseProxyHeader} returns. */
export type ProxyHeaderParseResult = ParsedProxyHeader | IncompleteProxyHeader;

/**
 * The stable `code` of each `ProxyHeaderError`:
 * - `EPROXY_SIGNATURE`: the bytes do not start with a PROXY header (none was sent).
 * - `EPROXY_TOO_LONG`: no CRLF within the 107 bytes a v1 line may take.
 * - `EPROXY_SYNTAX`: a malformed v1 line (unknown protocol, wrong spacing or line end).
 * - `EPROXY_ADDRESS` / `EPROXY_PORT`: a v1 address or port that is not valid for its family.
 * - `EPROXY_VERSION` / `EPROXY_COMMAND`: a v2 version other than 2, a command other than LOCAL or PROXY.
 * - `EPROXY_FAMILY` / `EPROXY_PROTOCOL`: an unassigned v2 address family or transport protocol.
 * - `EPROXY_LENGTH`: a v2 length too short for the family's addresses.
 * - `EPROXY_TLV`: a TLV that runs past the header, or a value of the wrong size
 *   (`UNIQUE_ID` over 128 bytes, `CRC32C` not 4 bytes, a short `SSL` TLV).
 * - `EPROXY_CHECKSUM`: the `CRC32C` TLV does not match the header.
 * - `EPROXY_TRUNCATED`: the connection ended (or failed) before the header was complete (listener only).
 * - `EPROXY_TIMEOUT`: the header did not arrive within the listener's timeout (listener only).
 */
export type ProxyHeaderErrorCode =
  | "EPROXY_SIGNATURE"
  | "EPROXY_TOO_LONG"
  | "EPROXY_SYNTAX"
  | "EPROXY_ADDRESS"
  | "EPROXY_PORT"
  | "EPROXY_VERSION"
  | "EPROXY_COMMAND"
  | "EPROXY_FAMILY"
  | "EPROXY_PROTOCOL"
  | "EPROXY_LENGTH"
  | "EPROXY_TLV"
  | "EPROXY_CHECKSUM"
  | "EPROXY_TRUNCATED"
  | "EPROXY_TIMEOUT";
