/**
 * Recognizes the PEM files (RFC 7468) a config names before the server starts: a certificate file
 * must hold at least one `CERTIFICATE` block, a key file a private key block, each of valid
 * base64 holding a DER SEQUENCE. This is the cheap part of what the TLS library would refuse at
 * the first handshake; it does not verify signatures or that the key matches the certificate.
 */

/** What a PEM file named by the config should hold. */
export type PemKind = "certificate" | "key" | "trust anchors";

/** One `-----BEGIN LABEL-----` … `-----END LABEL-----` block, decoded. */
export interface PemBlock {
  label: string;
  der: Uint8Array;
}

const BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;
/** The labels of a private key: PKCS #8 (RFC 7468 §10, §11) and the older RSA and EC forms. */
const KEY_LABELS = new Set([
  "PRIVATE KEY",
  "ENCRYPTED PRIVATE KEY",
  "RSA PRIVATE KEY",
  "EC PRIVATE KEY",
]);

/** The blocks of `text`; throws with a sentence when one is not base64 of a DER SEQUENCE. */
export function readPemBlocks(text: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  for (const match of text.matchAll(BLOCK)) {
    const label = match[1];
    // Explanatory headers (RFC 1421 "Proc-Type: …") come before a blank line; skip them.
    const body = match[2].includes(":")
      ? match[2].slice(match[2].search(/\r?\n\r?\n/) + 1)
      : match[2];
    const base64 = body.replace(/\s+/g, "");
    let der: Uint8Array;
    try {
      der = Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
    } catch {
      throw new Error(`its ${label} block is not valid base64`);
    }
    // Every certificate and key structure is an ASN.1 SEQUENCE (tag 0x30).
    if (der.length < 2 || der[0] !== 0x30) {
      throw new Error(`its ${label} block does not hold DER data (an ASN.1 SEQUENCE)`);
    }
    blocks.push({ label, der });
  }
  return blocks;
}

/**
 * Undefined when `text` fits `kind`, else why not, as the end of a sentence
 * ("it holds no CERTIFICATE block").
 */
export function pemProblem(text: string, kind: PemKind): string | undefined {
  let blocks: PemBlock[];
  try {
    blocks = readPemBlocks(text);
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
  if (blocks.length === 0) return "it holds no PEM block (-----BEGIN …-----)";
  if (kind === "key") {
    if (blocks.some((block) => KEY_LABELS.has(block.label))) return undefined;
    return `it holds no private key block (${[...KEY_LABELS].join(", ")}), only ` +
      [...new Set(blocks.map((block) => block.label))].join(", ");
  }
  if (blocks.some((block) => block.label === "CERTIFICATE")) return undefined;
  return `it holds no CERTIFICATE block, only ${
    [...new Set(blocks.map((block) => block.label))].join(", ")
  }`;
}
