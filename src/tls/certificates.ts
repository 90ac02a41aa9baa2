/**
 * The certificates the listeners present (c2s, s2s, http; RFC 6120 §13.7.1.2, RFC 6066 §3
 * SNI): read per host from the files the config names and read again on `CONFIG_RELOADED`; when none is configured, a CA and
 * a server certificate for the domains, made once under `./data/certs/` beside the config.
 */
import type { CertificatePair, FileAdapter, ServerTlsOptions } from "../adapters/types.ts";
import { makeCertificates } from "./x509.ts";

/** A configured certificate for a host: `<certificate host cert key/>` in c2s, `<tls>` in s2s. */
export interface CertificateConfig {
  host: string;
  /** Paths as written; resolved against the config file's folder. */
  cert: string;
  key: string;
}

export interface CertificateStoreOptions {
  files: FileAdapter;
  /** Resolves a path as written in the config (relative to the config's folder). */
  resolvePath(path: string): string;
  configured: readonly CertificateConfig[];
  domains: readonly string[];
  /** Where the line saying which certificate was made, and where, goes (the operator's log). */
  log?: (text: string) => void;
}

/** The folder (relative to the config) where the default certificate is made. */
export const DEFAULT_CERT_DIR = "data/certs";

export class CertificateStore {
  readonly #options: CertificateStoreOptions;
  #tls: ServerTlsOptions | undefined;

  constructor(options: CertificateStoreOptions) {
    this.#options = options;
  }

  /** The TLS options of the last successful load. */
  get tls(): ServerTlsOptions {
    if (!this.#tls) throw new Error("Certificates are not loaded yet");
    return this.#tls;
  }

  /**
   * (Re)reads every certificate; on failure the previous set stays in use and the error is
   * thrown for the caller to log, so a bad file on reload never takes TLS away.
   */
  async load(): Promise<ServerTlsOptions> {
    const { files, resolvePath, configured } = this.#options;
    if (configured.length === 0) {
      this.#tls = { default: await this.#defaultPair() };
      return this.#tls;
    }
    const byName: Record<string, CertificatePair> = {};
    let first: CertificatePair | undefined;
    let fallback: CertificatePair | undefined;
    for (const entry of configured) {
      const pair = {
        cert: await files.readTextFile(resolvePath(entry.cert)),
        key: await files.readTextFile(resolvePath(entry.key)),
      };
      first ??= pair;
      if (entry.host === "") fallback = pair;
      else byName[entry.host] = pair;
    }
    // Without SNI, the certificate of the first domain (or a host-less entry) is shown.
    const preferred = byName[this.#options.domains[0] ?? ""];
    this.#tls = { default: fallback ?? preferred ?? first!, byName };
    return this.#tls;
  }

  async #defaultPair(): Promise<CertificatePair> {
    const { files, resolvePath, domains } = this.#options;
    const dir = resolvePath(DEFAULT_CERT_DIR);
    const certPath = `${dir}/server.pem`;
    const keyPath = `${dir}/server.key`;
    if (await files.exists(certPath) && await files.exists(keyPath)) {
      return { cert: await files.readTextFile(certPath), key: await files.readTextFile(keyPath) };
    }
    const names = domains.length > 0 ? domains : ["localhost"];
    const made = await makeCertificates(names);
    await files.mkdir(dir);
    await files.writeTextFile(`${dir}/ca.pem`, made.ca);
    // The private key is the server's identity: readable by its owner only.
    await files.writeTextFile(keyPath, made.key, { mode: 0o600 });
    await files.writeTextFile(certPath, made.cert);
    this.#options.log?.(
      `c2s: made a CA and a certificate for ${names.join(", ")} in ${dir}` +
        " (server.pem, key server.key, CA ca.pem)",
    );
    return { cert: made.cert, key: made.key };
  }
}
