/**
 * The settings of `<c2s xmlns="jabberd:config:c2s">`: one declared schema that both validates
 * (reporting every problem with its element) and reads, so `check` and the running server agree.
 */
import {
  boolean,
  duration,
  integer,
  list,
  oneOf,
  options,
  port,
  size,
  string,
  value,
  type Values,
} from "../../config/options.ts";
import { normalizeDomain } from "../../util/jid.ts";
import type { Element } from "../../xml/element.ts";
import { type Cidr, parseCidr } from "../../util/cidr.ts";
import type { CertificateConfig } from "../../tls/certificates.ts";
export type { CertificateConfig };

export const NS_C2S_CONFIG = "jabberd:config:c2s";

export interface ListenConfig {
  port: number;
  /** `::` (the default) accepts IPv6 and, on a dual-stack host, IPv4 too. */
  address: string;
  /** `starttls`: plain TCP offering STARTTLS; `direct`: TLS from the first byte (XEP-0368). */
  tls: "starttls" | "direct";
}

export interface LimitsConfig {
  stanzaSize: number;
  /** Karma: bytes per second a client may send on average. */
  rate: number;
  /** Karma: bytes a client may send at once. */
  burst: number;
  authTimeout: number;
  connectionsPerIp: number;
  idleTimeout: number;
  keepalive: number;
  /** Failed SASL attempts before the stream is closed. */
  authAttempts: number;
}

export interface RegisterConfig {
  from: Cidr[];
  /** At most `rate` registrations per address every `per` ms. */
  rate: number;
  per: number;
}

/** XEP-0198 (`stream_management.ts`): `<stream-management resume-timeout max-unacked/>`. */
export interface StreamManagementConfig {
  enabled: boolean;
  /** How long a dropped session waits for a `<resume/>` (0: no resumption). */
  resumeTimeout: number;
  /** Unacknowledged stanzas a stream (or a detached session) may hold. */
  maxUnacked: number;
}

export interface C2sConfig {
  domains: string[];
  listens: ListenConfig[];
  certificates: CertificateConfig[];
  requireEncryption: boolean;
  plainUnencrypted: boolean;
  iterations: number;
  limits: LimitsConfig;
  register: RegisterConfig | undefined;
  streamManagement: StreamManagementConfig;
}

export const DEFAULT_LIMITS: LimitsConfig = {
  stanzaSize: 256 * 1024,
  rate: 16 * 1024,
  burst: 64 * 1024,
  authTimeout: 30_000,
  connectionsPerIp: 20,
  idleTimeout: 10 * 60_000,
  keepalive: 60_000,
  authAttempts: 3,
};

const LIMITS = options({
  "stanza-size": size(DEFAULT_LIMITS.stanzaSize, { positive: true }),
  rate: size(DEFAULT_LIMITS.rate, { positive: true }),
  burst: size(DEFAULT_LIMITS.burst, { positive: true }),
  "auth-timeout": duration(DEFAULT_LIMITS.authTimeout, { positive: true }),
  "connections-per-ip": integer(DEFAULT_LIMITS.connectionsPerIp, { min: 1, max: 1_000_000 }),
  "idle-timeout": duration(DEFAULT_LIMITS.idleTimeout, { positive: true }),
  keepalive: duration(DEFAULT_LIMITS.keepalive, { positive: true }),
  "auth-attempts": integer(DEFAULT_LIMITS.authAttempts, { min: 1, max: 100 }),
});

const C2S = options({
  domain: list(value(normalizeDomain), { unique: true }).required(
    "at least one <domain> naming a host clients may log in to",
  ),
  listen: list(options({
    port: port(undefined, { listen: true }).required("a port attribute"),
    address: string("::"),
    tls: oneOf(["starttls", "direct"], "starttls"),
  })),
  // `<tcp enabled="false"/>`: no TCP listener at all, clients come over WebSocket or BOSH only
  // (the Deno Deploy variant, deploy/).
  tcp: options({ enabled: boolean(true) }),
  certificate: list(options({
    host: value(normalizeDomain, ""),
    cert: string().required("a cert file attribute (PEM)"),
    key: string().required("a key file attribute (PEM)"),
  })),
  "require-encryption": options({ enabled: boolean(true) }),
  plain: options({ "allow-unencrypted": boolean(false) }),
  scram: options({ iterations: integer(10000, { min: 4096, max: 10_000_000 }) }),
  limits: LIMITS,
  "stream-management": options({
    enabled: boolean(true),
    "resume-timeout": duration(5 * 60_000),
    "max-unacked": integer(500, { min: 1, max: 1_000_000 }),
  }),
  register: options({
    from: value(parseCidrList).required('from="…" with the address ranges allowed to register'),
    rate: integer(5, { min: 1, max: 1_000_000 }),
    per: duration(10 * 60_000, { positive: true }),
  }).optional(),
});

/** Space-separated CIDR ranges. */
function parseCidrList(text: string): Cidr[] {
  return text.split(/\s+/).map(parseCidr);
}

type Report = (at: Element, message: string) => void;

/** Reads the element, calling `report` for each problem; the result uses defaults for those. */
export function parseC2sConfig(element: Element, report: Report): C2sConfig {
  const context = { problem: report, warning: () => {} };
  const config = toC2sConfig(C2S.validate(element, context));
  if (config.listens.length === 0 && element.getChild("listen")) {
    report(element, 'A <listen> contradicts <tcp enabled="false">: remove one of them');
  }
  const seen = new Set<string>();
  for (const listen of config.listens) {
    const key = `${listen.address}:${listen.port}`;
    if (listen.port !== 0 && seen.has(key)) report(element, `Two <listen> elements use ${key}`);
    seen.add(key);
  }
  return config;
}

/** Reads a config `check` already validated; throws on the first problem. */
export function readC2sConfig(element: Element): C2sConfig {
  return toC2sConfig(C2S.read(element));
}

function toC2sConfig(values: Values<typeof C2S>): C2sConfig {
  const limits = values.limits;
  return {
    domains: values.domain,
    listens: !values.tcp.enabled
      ? []
      : values.listen.length > 0
      ? values.listen
      : [{ port: 5222, address: "::", tls: "starttls" }],
    certificates: values.certificate,
    requireEncryption: values["require-encryption"].enabled,
    plainUnencrypted: values.plain["allow-unencrypted"],
    iterations: values.scram.iterations,
    limits: {
      stanzaSize: limits["stanza-size"],
      rate: limits.rate,
      burst: limits.burst,
      authTimeout: limits["auth-timeout"],
      connectionsPerIp: limits["connections-per-ip"],
      idleTimeout: limits["idle-timeout"],
      keepalive: limits.keepalive,
      authAttempts: limits["auth-attempts"],
    },
    register: values.register,
    streamManagement: {
      enabled: values["stream-management"].enabled,
      resumeTimeout: values["stream-management"]["resume-timeout"],
      maxUnacked: values["stream-management"]["max-unacked"],
    },
  };
}
