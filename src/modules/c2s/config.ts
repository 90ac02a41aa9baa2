/**
 * The settings of `<c2s xmlns="jabberd:config:c2s">`: one parser that both validates (reporting
 * every problem with its element) and reads, so `check` and the running server agree.
 */
import { parseDuration, parseSize } from "../../config/units.ts";
import { normalizeDomain } from "../../util/jid.ts";
import type { Element } from "../../xml/element.ts";
import { type Cidr, parseCidr } from "./cidr.ts";

export const NS_C2S_CONFIG = "jabberd:config:c2s";

export interface ListenConfig {
  port: number;
  /** `::` (the default) accepts IPv6 and, on a dual-stack host, IPv4 too. */
  address: string;
  /** `starttls`: plain TCP offering STARTTLS; `direct`: TLS from the first byte (XEP-0368). */
  tls: "starttls" | "direct";
}

export interface CertificateConfig {
  host: string;
  /** Paths as written; resolved against the config file's folder. */
  cert: string;
  key: string;
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

export interface C2sConfig {
  domains: string[];
  listens: ListenConfig[];
  certificates: CertificateConfig[];
  requireEncryption: boolean;
  plainUnencrypted: boolean;
  iterations: number;
  limits: LimitsConfig;
  register: RegisterConfig | undefined;
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

const KNOWN = new Set([
  "domain",
  "listen",
  "certificate",
  "require-encryption",
  "plain",
  "scram",
  "limits",
  "register",
]);

type Report = (at: Element, message: string) => void;

function bool(at: Element, name: string, fallback: boolean, report: Report): boolean {
  const value = at.attrs[name];
  if (value === undefined) return fallback;
  if (value === "true" || value === "1" || value === "yes") return true;
  if (value === "false" || value === "0" || value === "no") return false;
  report(at, `${name}="${value}" must be true or false`);
  return fallback;
}

function integer(
  at: Element,
  name: string,
  fallback: number,
  min: number,
  max: number,
  report: Report,
): number {
  const value = at.attrs[name];
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    report(at, `${name}="${value}" must be a whole number from ${min} to ${max}`);
    return fallback;
  }
  return n;
}

function unit(
  at: Element,
  name: string,
  fallback: number,
  parse: (text: string) => number,
  report: Report,
): number {
  const value = at.attrs[name];
  if (value === undefined) return fallback;
  try {
    const n = parse(value);
    if (n <= 0) throw new Error(`${name} must be more than zero`);
    return n;
  } catch (error) {
    report(at, `${name}="${value}": ${(error as Error).message}`);
    return fallback;
  }
}

/** Reads the element, calling `report` for each problem; the result uses defaults for those. */
export function parseC2sConfig(element: Element, report: Report): C2sConfig {
  const config: C2sConfig = {
    domains: [],
    listens: [],
    certificates: [],
    requireEncryption: true,
    plainUnencrypted: false,
    iterations: 10000,
    limits: { ...DEFAULT_LIMITS },
    register: undefined,
  };
  for (const child of element.elements) {
    if (!KNOWN.has(child.local)) {
      report(child, `<${child.local}> is not a c2s setting; use one of ${[...KNOWN].join(", ")}`);
      continue;
    }
    switch (child.local) {
      case "domain": {
        try {
          const domain = normalizeDomain(child.text().trim());
          if (config.domains.includes(domain)) report(child, `Domain ${domain} is listed twice`);
          else config.domains.push(domain);
        } catch (error) {
          report(child, `<domain> must hold a domain name: ${(error as Error).message}`);
        }
        break;
      }
      case "listen": {
        const tls = child.attrs.tls ?? "starttls";
        if (tls !== "starttls" && tls !== "direct") {
          report(child, `tls="${tls}" must be starttls or direct`);
        }
        if (child.attrs.port === undefined) report(child, "<listen> needs a port attribute");
        config.listens.push({
          port: integer(child, "port", 5222, 0, 65535, report),
          address: child.attrs.address ?? "::",
          tls: tls === "direct" ? "direct" : "starttls",
        });
        break;
      }
      case "certificate": {
        const { cert, key } = child.attrs;
        if (!cert || !key) report(child, "<certificate> needs cert and key file attributes");
        let host = "";
        try {
          host = child.attrs.host === undefined ? "" : normalizeDomain(child.attrs.host);
        } catch (error) {
          report(child, `host="${child.attrs.host}" is not a domain: ${(error as Error).message}`);
        }
        config.certificates.push({ host, cert: cert ?? "", key: key ?? "" });
        break;
      }
      case "require-encryption":
        config.requireEncryption = bool(child, "enabled", true, report);
        break;
      case "plain":
        config.plainUnencrypted = bool(child, "allow-unencrypted", false, report);
        break;
      case "scram":
        config.iterations = integer(child, "iterations", 10000, 4096, 10_000_000, report);
        break;
      case "limits":
        config.limits = readLimits(child, report);
        break;
      case "register": {
        const ranges: Cidr[] = [];
        for (const text of (child.attrs.from ?? "").split(/\s+/).filter((s) => s !== "")) {
          try {
            ranges.push(parseCidr(text));
          } catch (error) {
            report(child, (error as Error).message);
          }
        }
        if (child.attrs.from === undefined) {
          report(child, '<register> needs from="…" with the address ranges allowed to register');
        }
        config.register = {
          from: ranges,
          rate: integer(child, "rate", 5, 1, 1_000_000, report),
          per: unit(child, "per", 10 * 60_000, parseDuration, report),
        };
        break;
      }
    }
  }
  if (config.domains.length === 0) {
    report(element, "<c2s> needs at least one <domain> naming a host clients may log in to");
  }
  if (config.listens.length === 0) {
    config.listens.push({ port: 5222, address: "::", tls: "starttls" });
  }
  const seen = new Set<string>();
  for (const listen of config.listens) {
    const key = `${listen.address}:${listen.port}`;
    if (listen.port !== 0 && seen.has(key)) {
      report(element, `Two <listen> elements use ${key}`);
    }
    seen.add(key);
  }
  return config;
}

function readLimits(at: Element, report: Report): LimitsConfig {
  const d = DEFAULT_LIMITS;
  return {
    stanzaSize: unit(at, "stanza-size", d.stanzaSize, parseSize, report),
    rate: unit(at, "rate", d.rate, parseSize, report),
    burst: unit(at, "burst", d.burst, parseSize, report),
    authTimeout: unit(at, "auth-timeout", d.authTimeout, parseDuration, report),
    connectionsPerIp: integer(at, "connections-per-ip", d.connectionsPerIp, 1, 1_000_000, report),
    idleTimeout: unit(at, "idle-timeout", d.idleTimeout, parseDuration, report),
    keepalive: unit(at, "keepalive", d.keepalive, parseDuration, report),
    authAttempts: integer(at, "auth-attempts", d.authAttempts, 1, 100, report),
  };
}

/** Reads a config `check` already validated; throws on the first problem. */
export function readC2sConfig(element: Element): C2sConfig {
  return parseC2sConfig(element, (_at, message) => {
    throw new Error(message);
  });
}
