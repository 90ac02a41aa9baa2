/**
 * The settings of `<accept>` and `<connect>` (XEP-0114 component links and links between our own
 * nodes), read once for `check` (every problem reported) and once for `register`.
 *
 * The shape is jabberd 1.4's: child elements with text (`<ip>`, `<port>`, `<secret>`,
 * `<timeout>`), plus `<queue max age/>`, `<conflict>`, `<tls/>`, `<name>`, `<retry min max/>`,
 * and `link="node"` on the element for a link between two jabberd nodes.
 */
import { parseDuration } from "../../config/units.ts";
import type { ModuleApi } from "../../server/module_api.ts";
import type { Element } from "../../xml/element.ts";
import { Outbox } from "./link/outbox.ts";

export type LinkMode = "component" | "node";

export interface LinkConfig {
  mode: LinkMode;
  /** accept: the address to listen on; connect: the address to dial. */
  ip: string;
  port: number;
  secret: string;
  /** How long the stream header and handshake may take. */
  timeoutMs: number;
  queueMax: number;
  queueAgeMs: number;
  /** accept: what a second connection for the same peer does to the live one. */
  conflict: "replace" | "refuse";
  /** accept: direct TLS with these certificate files; connect: direct TLS to the peer. */
  tls?: { cert?: string; key?: string; name?: string; ca?: string };
  /** connect: the name announced in the stream header (default: the section's id). */
  name?: string;
  /** connect: reconnect backoff bounds. */
  retryMinMs: number;
  retryMaxMs: number;
}

export const LINK_DEFAULTS = {
  acceptIp: "127.0.0.1",
  port: 5347,
  timeoutMs: 10_000,
  queueMax: 1000,
  queueAgeMs: 60_000,
  retryMinMs: 1000,
  retryMaxMs: 60_000,
} as const;

type Report = (at: Element, message: string) => void;

const COMMON = ["ip", "port", "secret", "timeout", "queue", "tls"];
const CHILDREN: Record<"accept" | "connect", string[]> = {
  accept: [...COMMON, "conflict"],
  connect: [...COMMON, "name", "retry"],
};

/** Reads the element; every problem goes to `report`, and defaults stand in for what is wrong. */
export function readLinkConfig(
  element: Element,
  which: "accept" | "connect",
  report: Report = () => {},
): LinkConfig {
  const config: LinkConfig = {
    mode: "component",
    ip: which === "accept" ? LINK_DEFAULTS.acceptIp : "",
    port: LINK_DEFAULTS.port,
    secret: "",
    timeoutMs: LINK_DEFAULTS.timeoutMs,
    queueMax: LINK_DEFAULTS.queueMax,
    queueAgeMs: LINK_DEFAULTS.queueAgeMs,
    conflict: "replace",
    retryMinMs: LINK_DEFAULTS.retryMinMs,
    retryMaxMs: LINK_DEFAULTS.retryMaxMs,
  };
  const link = element.attrs.link;
  if (link === "node") config.mode = "node";
  else if (link !== undefined && link !== "component") {
    report(element, `<${which}> link="${link}" is unknown; write link="node" or leave it out`);
  }
  for (const key in element.attrs) {
    if (key !== "link" && key !== "xmlns") {
      report(element, `<${which}> has no attribute ${key}; settings are child elements`);
    }
  }
  const duration = (at: Element, text: string, what: string, fallback: number): number => {
    try {
      return parseDuration(text);
    } catch (error) {
      report(at, `${what}: ${(error as Error).message}`);
      return fallback;
    }
  };
  const count = (at: Element, text: string, what: string, fallback: number): number => {
    if (!/^\d{1,9}$/.test(text.trim()) || Number(text) < 1) {
      report(at, `${what} must be a whole number of at least 1, not "${text}"`);
      return fallback;
    }
    return Number(text);
  };
  let sawSecret = false;
  let sawIp = false;
  for (const child of element.elements) {
    const text = child.text().trim();
    switch (child.local) {
      case "ip":
        sawIp = true;
        if (text === "" || /[\s/@]/.test(text)) {
          report(child, `<ip> must hold an address or host name such as 127.0.0.1, not "${text}"`);
        } else config.ip = text;
        break;
      case "port": {
        const port = Number(text);
        if (!/^\d{1,5}$/.test(text) || port > 65535 || (port === 0 && which === "connect")) {
          report(child, `<port> must be a port number from ${which === "accept" ? 0 : 1} to 65535`);
        } else config.port = port;
        break;
      }
      case "secret":
        sawSecret = true;
        if (text === "") report(child, "<secret> is empty; write the shared secret as its text");
        config.secret = text;
        break;
      case "timeout":
        config.timeoutMs = duration(child, text, "<timeout>", config.timeoutMs);
        break;
      case "queue":
        for (const key in child.attrs) {
          if (key === "max") config.queueMax = count(child, child.attrs.max, "<queue max>", 1000);
          else if (key === "age") {
            config.queueAgeMs = duration(child, child.attrs.age, "<queue age>", 60_000);
          } else report(child, `<queue> takes max and age attributes, not ${key}`);
        }
        break;
      case "conflict":
        if (text === "replace" || text === "refuse") config.conflict = text;
        else {
          report(
            child,
            `<conflict> is "replace" (a new connection replaces the live one) or "refuse"`,
          );
        }
        break;
      case "tls": {
        const allowed = which === "accept" ? ["cert", "key"] : ["name", "ca"];
        config.tls = {};
        for (const key in child.attrs) {
          if (!allowed.includes(key)) {
            report(child, `<tls> in <${which}> takes ${allowed.join(" and ")}, not ${key}`);
          } else config.tls[key as "cert"] = child.attrs[key];
        }
        if (which === "accept" && (!child.attrs.cert || !child.attrs.key)) {
          report(child, `<tls> in <accept> needs cert and key file attributes (PEM files)`);
        }
        break;
      }
      case "name":
        if (text === "" || /[\s/@]/.test(text)) {
          report(child, `<name> must be a host name such as bot.example.org`);
        } else config.name = text;
        break;
      case "retry":
        for (const key in child.attrs) {
          if (key === "min") {
            config.retryMinMs = duration(child, child.attrs.min, "<retry min>", 1000);
          } else if (key === "max") {
            config.retryMaxMs = duration(child, child.attrs.max, "<retry max>", 60_000);
          } else report(child, `<retry> takes min and max attributes, not ${key}`);
        }
        if (config.retryMinMs < 1 || config.retryMaxMs < config.retryMinMs) {
          report(child, "<retry> needs 0 < min <= max, such as <retry min='1s' max='1m'/>");
          config.retryMinMs = LINK_DEFAULTS.retryMinMs;
          config.retryMaxMs = Math.max(config.retryMinMs, config.retryMaxMs);
        }
        break;
      default:
        report(
          child,
          `<${which}> has no setting <${child.name}>; it takes ${CHILDREN[which].join(", ")}`,
        );
    }
  }
  if (!sawSecret) report(element, `<${which}> needs a <secret> shared with the other side`);
  if (which === "connect" && !sawIp) {
    report(element, "<connect> needs the <ip> (or host name) of the listener to dial");
  }
  if (config.timeoutMs < 1) {
    report(element, `<timeout> must be more than 0s`);
    config.timeoutMs = LINK_DEFAULTS.timeoutMs;
  }
  return config;
}

/**
 * The outbox of an `<accept>` or `<connect>` section, taking what the tree delivers to it: every
 * kind on a node link, stanzas only on a component link (ROUTING.md "Links to other processes").
 */
export function sectionOutbox(api: ModuleApi, config: LinkConfig, module: string): Outbox {
  const node = config.mode === "node";
  const outbox = new Outbox({
    queueMax: config.queueMax,
    queueAgeMs: config.queueAgeMs,
    clock: api.timer,
    carryHops: node,
    deliver: (packet) => api.deliver(packet),
    dropped: (packet, condition) =>
      api.log.warn(`${module}: gave up a ${packet.element.name} for ${packet.to} (${condition})`),
  });
  api.handle("deliver", (packet) => {
    if (!node && packet.kind !== "normal") return "pass";
    outbox.send(packet);
    return "done";
  });
  return outbox;
}

/**
 * The settings of the module's own element, refusing a component link outside a `<service>`
 * section: only a node link may carry an xdb or log section's packets.
 */
export function linkConfigOf(api: ModuleApi, which: "accept" | "connect"): LinkConfig {
  const config = readLinkConfig(api.config, which);
  if (config.mode === "component" && api.section !== "service") {
    throw new Error(
      `A component <${which}> belongs in a <service> section; only <${which} link="node"> may ` +
        `serve an <${api.section}> section`,
    );
  }
  return config;
}
