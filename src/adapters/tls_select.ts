/**
 * Certificate choice by SNI name and PEM decoding, shared by the Deno and in-memory adapters so
 * both pick the same certificate for the same name (RFC 6066 §3; XEP-0368 direct TLS).
 */

import type { CertificatePair, ServerTlsOptions } from "./types.ts";

/**
 * Picks the certificate for an SNI name: an exact entry of `byName` first, then a `*.domain`
 * entry matching exactly one label (RFC 6125 §6.4.3), else the default.
 */
export function selectCertificate(
  options: ServerTlsOptions,
  serverName: string | undefined,
): CertificatePair {
  const byName = options.byName;
  if (!byName || !serverName) return options.default;
  const name = serverName.toLowerCase().replace(/\.$/, "");
  const exact = byName[name];
  if (exact) return exact;
  const dot = name.indexOf(".");
  if (dot > 0) {
    const wildcard = byName[`*${name.slice(dot)}`];
    if (wildcard) return wildcard;
  }
  return options.default;
}

/** Decodes the first PEM block of `pem` (a certificate) to its DER bytes. */
export function pemToDer(pem: string): Uint8Array {
  const match = /-----BEGIN [^-]+-----([\s\S]*?)-----END [^-]+-----/.exec(pem);
  if (!match) throw new TypeError("No PEM block found in the certificate text");
  const binary = atob(match[1].replace(/\s+/g, ""));
  const der = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) der[i] = binary.charCodeAt(i);
  return der;
}
