/**
 * The one wrapper around `@peculiar/x509`: makes the default CA and server certificate and reads
 * a certificate's signature hash for `tls-server-end-point` (RFC 5929 §4.1). Written on a
 * well-kept library because X.509 encoding by hand is where subtle bugs hide.
 */
import "reflect-metadata"; // @peculiar/x509's dependency injection needs the polyfill first
import * as x509 from "@peculiar/x509";

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };

export interface GeneratedCertificates {
  /** The CA certificate (PEM): what a client may be told to trust. */
  ca: string;
  /** The server certificate (PEM), signed by the CA. */
  cert: string;
  /** The server's private key, PKCS#8 PEM. */
  key: string;
}

function serial(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[0] &= 0x7f; // a positive INTEGER
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Makes a CA (CA:TRUE, keyCertSign) and a leaf for `domains` (CA:FALSE, serverAuth and
 * clientAuth, SAN = the domains), both ECDSA P-256. Two steps because rustls (Deno's TLS)
 * refuses a self-signed certificate used directly as a server certificate (`CaUsedAsEndEntity`).
 */
export async function makeCertificates(
  domains: readonly string[],
  now = new Date(),
): Promise<GeneratedCertificates> {
  const notBefore = new Date(now.getTime() - 60 * 60_000);
  const notAfter = new Date(now.getTime() + 5 * 365 * 24 * 60 * 60_000);
  const caKeys = await crypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=jabberd local CA for ${domains[0] ?? "localhost"}`,
    notBefore,
    notAfter,
    keys: caKeys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
    ],
  });
  const leafKeys = await crypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${domains[0] ?? "localhost"}`,
    issuer: ca.subject,
    notBefore,
    notAfter,
    publicKey: leafKeys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      // clientAuth too: s2s presents the same certificate as a client (XEP-0178).
      new x509.ExtendedKeyUsageExtension([
        x509.ExtendedKeyUsage.serverAuth,
        x509.ExtendedKeyUsage.clientAuth,
      ]),
      new x509.SubjectAlternativeNameExtension(
        domains.map((d) => ({ type: "dns" as const, value: d })),
      ),
    ],
  });
  const pkcs8 = await crypto.subtle.exportKey("pkcs8", leafKeys.privateKey);
  return {
    ca: ca.toString("pem") + "\n",
    cert: leaf.toString("pem") + "\n",
    key: x509.PemConverter.encode(pkcs8, "PRIVATE KEY") + "\n",
  };
}

/**
 * The hash `tls-server-end-point` uses for a certificate (RFC 5929 §4.1): the hash of its
 * signature algorithm, except MD5 and SHA-1 which become SHA-256. Undefined when the signature
 * has no single hash (Ed25519): channel binding is then not offered.
 */
export function endPointHash(der: Uint8Array): "SHA-256" | "SHA-384" | "SHA-512" | undefined {
  let hash: string | undefined;
  try {
    const algorithm = new x509.X509Certificate(new Uint8Array(der)).signatureAlgorithm as {
      hash?: { name?: string };
    };
    hash = algorithm.hash?.name?.toUpperCase();
  } catch {
    return undefined;
  }
  switch (hash) {
    case "MD5":
    case "SHA-1":
    case "SHA-256":
      return "SHA-256";
    case "SHA-384":
      return "SHA-384";
    case "SHA-512":
      return "SHA-512";
    default:
      return undefined;
  }
}

/** The `tls-server-end-point` channel binding data: the certificate's hash (RFC 5929 §4.1). */
export async function serverEndPoint(der: Uint8Array): Promise<Uint8Array | undefined> {
  const hash = endPointHash(der);
  if (!hash) return undefined;
  return new Uint8Array(await crypto.subtle.digest(hash, new Uint8Array(der)));
}
