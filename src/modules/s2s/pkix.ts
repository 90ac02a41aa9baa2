/**
 * Checks a peer server's certificate ourselves (RFC 6120 §13.7.2, RFC 5280 §6 path validation in
 * its simple form, RFC 6125 §6.4 DNS-ID matching): Deno's TLS server never sets `authorized` on a
 * server socket (docs/runtime-notes.md), and s2s trusts per domain (`<ca>`, `<insecure-domain>`),
 * so both directions verify here with `@peculiar/x509`.
 */
import "reflect-metadata"; // @peculiar/x509's dependency injection needs the polyfill first
import * as x509 from "@peculiar/x509";

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** Why a certificate is not valid for a domain, or undefined when it is. */
export type CertificateProblem = string | undefined;

/** The trust anchors (and intermediates) a peer's certificate may chain to. */
export class TrustStore {
  readonly #certificates: x509.X509Certificate[] = [];

  /** Adds every certificate of a PEM bundle; unparsable blocks are skipped. */
  addPem(pem: string): number {
    let added = 0;
    for (const block of pem.match(PEM_CERTIFICATE) ?? []) {
      try {
        this.#certificates.push(new x509.X509Certificate(block));
        added++;
      } catch {
        // A bundle may hold blocks this library cannot read; they cannot anchor anything.
      }
    }
    return added;
  }

  /**
   * Checks that `der` is valid now, names `domain` (DNS-ID, RFC 6125 §6.4.3 wildcards), and is
   * signed by a certificate of the store. Every certificate of the store is trusted, so an
   * intermediate listed in `<ca>` anchors its leaves; a chain the peer sends is not read (Deno's
   * TLS adapter hands over the leaf only).
   */
  async check(
    der: Uint8Array | undefined,
    domain: string,
    now = new Date(),
  ): Promise<CertificateProblem> {
    if (!der) return "no certificate was presented";
    let leaf: x509.X509Certificate;
    try {
      leaf = new x509.X509Certificate(new Uint8Array(der));
    } catch {
      return "the certificate cannot be read";
    }
    if (now < leaf.notBefore || now > leaf.notAfter) return "the certificate is expired";
    if (!namesDomain(leaf, domain)) return `the certificate does not name ${domain}`;
    for (const anchor of this.#certificates) {
      if (anchor.subject !== leaf.issuer) continue;
      if (now < anchor.notBefore || now > anchor.notAfter) continue;
      const signed = await leaf.verify({ publicKey: anchor.publicKey, signatureOnly: true })
        .catch(() => false);
      if (signed) return undefined;
    }
    return "the certificate is not signed by a trusted CA";
  }
}

/** RFC 6125 §6.4: a DNS name of the subjectAltName, or the CN when there is none. */
export function namesDomain(certificate: x509.X509Certificate, domain: string): boolean {
  const wanted = domain.toLowerCase().replace(/\.$/, "");
  const san = certificate.getExtension(x509.SubjectAlternativeNameExtension);
  const names = san
    ? san.names.items.filter((name) => name.type === "dns").map((name) => name.value)
    : certificate.subjectName.getField("CN");
  return names.some((name) => matchesDnsId(name.toLowerCase().replace(/\.$/, ""), wanted));
}

/** `*.example.org` matches one label only, never `example.org` itself (RFC 6125 §6.4.3). */
function matchesDnsId(name: string, domain: string): boolean {
  if (name === domain) return true;
  if (!name.startsWith("*.")) return false;
  const dot = domain.indexOf(".");
  return dot > 0 && domain.slice(dot + 1) === name.slice(2);
}
