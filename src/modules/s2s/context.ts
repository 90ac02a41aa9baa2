/**
 * What the s2s streams share with their component (mod.ts): the settings, the runtime, the trust
 * rules, the dialback secret, and the way into the delivery tree.
 */
import type {
  CertificatePair,
  DnsAdapter,
  NetAdapter,
  ServerTlsOptions,
} from "../../adapters/types.ts";
import type { Logger, Timers } from "../../server/module_api.ts";
import type { Element } from "../../xml/element.ts";
import type { S2sConfig } from "./config.ts";
import type { TrustStore } from "./pkix.ts";

/** How a dialback verification came out: `valid`, `invalid`, or the error that stopped it. */
export type VerifyOutcome =
  | "valid"
  | "invalid"
  | "remote-server-not-found"
  | "remote-server-timeout";

export interface S2sContext {
  readonly config: S2sConfig;
  readonly log: Logger;
  readonly timer: Timers;
  readonly net: NetAdapter;
  readonly dns: DnsAdapter;
  readonly trust: TrustStore;
  /** The dialback secret (XEP-0185). */
  readonly secret: string;
  /** True when another section of this server serves `domain` (a host of ours). */
  isLocal(domain: string): boolean;
  /** The certificates we present as a TLS server, asking peers for theirs. */
  serverTls(): ServerTlsOptions;
  /** The certificate we present as a TLS client for a local domain (SASL EXTERNAL). */
  clientCertificate(domain: string): CertificatePair;
  /** Hands a stanza from a remote server into the tree. */
  deliver(stanza: Element): void;
  /**
   * Asks the authoritative server of `originating` whether `key` is the one it made for the
   * stream `streamId` to our `receiving` domain (XEP-0220 §2.1.2), over our outbound stream.
   */
  verify(
    receiving: string,
    originating: string,
    streamId: string,
    key: string,
  ): Promise<VerifyOutcome>;
  /** Counts an authenticated inbound stream from `domain`; false when over the limit. */
  acquireInbound(domain: string): boolean;
  releaseInbound(domain: string): void;
}
