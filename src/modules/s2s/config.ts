/**
 * The settings of `<s2s xmlns="jabberd:config:s2s">` (federation, RFC 6120 server streams): one
 * declared schema that both validates and reads, so `check` and the running server agree.
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
import type { ValidationContext } from "../../server/module_api.ts";
import { normalizeDomain } from "../../util/jid.ts";
import type { Element } from "../../xml/element.ts";

/** How a connection starts TLS: STARTTLS on a plain stream, or TLS from the first byte. */
export type TlsMode = "starttls" | "direct";

const S2S = options({
  listen: list(options({
    ip: string("::"),
    port: port(undefined, { listen: true }).required(
      'a port attribute (5269, or 5270 with tls="direct")',
    ),
    tls: oneOf(["starttls", "direct"], "starttls"),
  })),
  secret: string(),
  route: list(options({
    domain: value(normalizeDomain).required("a domain attribute naming the remote domain"),
    host: string().required("a host attribute (an address or a name)"),
    port: port(5269),
    tls: oneOf(["starttls", "direct"], "starttls"),
  })),
  tls: list(options({
    host: value(normalizeDomain, ""),
    cert: string().required("a cert file attribute (PEM)"),
    key: string().required("a key file attribute (PEM)"),
  })),
  ca: list(string()),
  "insecure-domain": list(value(normalizeDomain), { unique: true }),
  "require-tls": boolean(true),
  "idle-timeout": duration(10 * 60_000, { positive: true }),
  "connect-timeout": duration(10_000, { positive: true }),
  queue: options({
    max: integer(1000, { min: 1, max: 1_000_000 }),
    age: duration(30_000, { positive: true }),
  }),
  limits: options({
    "stanza-size": size(256 * 1024, { positive: true }),
    rate: size(256 * 1024, { positive: true }),
    burst: size(1024 * 1024, { positive: true }),
    "connections-per-domain": integer(4, { min: 1, max: 1000 }),
  }),
});

export interface S2sConfig {
  listens: { ip: string; port: number; tls: TlsMode }[];
  /** The dialback secret; undefined means "made at first start and kept in XDB". */
  secret: string | undefined;
  /** Pinned addresses by remote domain (XEP-0368 direct TLS with `tls="direct"`). */
  routes: Map<string, { host: string; port: number; tls: TlsMode }>;
  certificates: { host: string; cert: string; key: string }[];
  /** Paths of PEM files with trust anchors, as written. */
  ca: string[];
  insecureDomains: Set<string>;
  requireTls: boolean;
  idleTimeout: number;
  connectTimeout: number;
  queue: { max: number; age: number };
  limits: { stanzaSize: number; rate: number; burst: number; connectionsPerDomain: number };
}

/** Checks the element, reporting every problem with its position. */
export function validateS2sConfig(element: Element, context: ValidationContext): void {
  const values = S2S.validate(element, context);
  const seen = new Set<string>();
  for (const route of values.route) {
    if (seen.has(route.domain)) {
      context.problem(element, `Two <route> elements pin ${route.domain}`);
    }
    seen.add(route.domain);
  }
}

/** Reads a config `check` already validated. */
export function readS2sConfig(element: Element): S2sConfig {
  return toS2sConfig(S2S.read(element));
}

function toS2sConfig(values: Values<typeof S2S>): S2sConfig {
  const limits = values.limits;
  return {
    listens: values.listen.length > 0 ? values.listen : [{ ip: "::", port: 5269, tls: "starttls" }],
    secret: values.secret,
    routes: new Map(
      values.route.map((r) => [r.domain, { host: r.host, port: r.port, tls: r.tls }]),
    ),
    certificates: values.tls,
    ca: values.ca,
    insecureDomains: new Set(values["insecure-domain"]),
    requireTls: values["require-tls"],
    idleTimeout: values["idle-timeout"],
    connectTimeout: values["connect-timeout"],
    queue: values.queue,
    limits: {
      stanzaSize: limits["stanza-size"],
      rate: limits.rate,
      burst: limits.burst,
      connectionsPerDomain: limits["connections-per-domain"],
    },
  };
}
