/**
 * The settings of `<accept>` and `<connect>` (XEP-0114 component links and links between our own
 * nodes), read once for `check` (every problem reported) and once for `register`.
 *
 * The shape is jabberd 1.4's: child elements with text (`<ip>`, `<port>`, `<secret>`,
 * `<timeout>`), plus `<queue max age/>`, `<conflict>`, `<tls/>`, `<name>`, `<retry min max/>`,
 * and `link="node"` on the element for a link between two jabberd nodes. As everywhere in the
 * config, a single value may be written as an attribute instead (`<accept port="5347">`).
 */
import {
  duration,
  integer,
  oneOf,
  options,
  port,
  string,
  value,
  type Values,
} from "../../config/options.ts";
import type { ModuleApi } from "../../server/module_api.ts";
import type { Element } from "../../xml/element.ts";
import { Outbox } from "../../link/outbox.ts";

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

/** An address or host name: no spaces, slashes or `@`. */
function hostName(text: string): string {
  if (/[\s/@]/.test(text)) {
    throw new Error(`"${text}" is not an address or host name; write one such as 127.0.0.1`);
  }
  return text;
}

const LINK = oneOf(["component", "node"], "component");
const COMMON = {
  secret: string().required("a <secret> shared with the other side"),
  timeout: duration(LINK_DEFAULTS.timeoutMs, { positive: true }),
  queue: options({
    max: integer(LINK_DEFAULTS.queueMax, { min: 1 }),
    age: duration(LINK_DEFAULTS.queueAgeMs),
  }),
};

const SCHEMAS = {
  accept: options({
    link: LINK,
    ip: value(hostName, LINK_DEFAULTS.acceptIp),
    port: port(LINK_DEFAULTS.port, { listen: true }),
    ...COMMON,
    tls: options({
      cert: string().required("a cert file attribute (PEM)"),
      key: string().required("a key file attribute (PEM)"),
    }).optional(),
    conflict: oneOf(["replace", "refuse"], "replace"),
  }),
  connect: options({
    link: LINK,
    ip: value(hostName).required("the <ip> (or host name) of the listener to dial"),
    port: port(LINK_DEFAULTS.port),
    ...COMMON,
    tls: options({ name: value(hostName), ca: string() }).optional(),
    name: value(hostName),
    retry: options({
      min: duration(LINK_DEFAULTS.retryMinMs, { positive: true }),
      max: duration(LINK_DEFAULTS.retryMaxMs, { positive: true }),
    }),
  }),
};

/** Reads the element; every problem goes to `report`, and defaults stand in for what is wrong. */
export function readLinkConfig(
  element: Element,
  which: "accept" | "connect",
  report: (at: Element, message: string) => void,
): LinkConfig {
  const config = toLinkConfig(SCHEMAS[which].validate(element, { problem: report, warning() {} }));
  if (config.retryMaxMs < config.retryMinMs) {
    report(
      element.getChild("retry") ?? element,
      "<retry> needs min <= max, such as <retry min='1s' max='1m'/>",
    );
  }
  return config;
}

type Settings = Values<typeof SCHEMAS.accept> | Values<typeof SCHEMAS.connect>;

function toLinkConfig(settings: Settings): LinkConfig {
  const retry = "retry" in settings ? settings.retry : undefined;
  return {
    mode: settings.link,
    ip: settings.ip,
    port: settings.port,
    secret: settings.secret,
    timeoutMs: settings.timeout,
    queueMax: settings.queue.max,
    queueAgeMs: settings.queue.age,
    conflict: "conflict" in settings ? settings.conflict : "replace",
    tls: settings.tls,
    name: "name" in settings ? settings.name : undefined,
    retryMinMs: retry?.min ?? LINK_DEFAULTS.retryMinMs,
    retryMaxMs: retry?.max ?? LINK_DEFAULTS.retryMaxMs,
  };
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
  const config = toLinkConfig(SCHEMAS[which].read(api.config));
  if (config.mode === "component" && api.section !== "service") {
    throw new Error(
      `A component <${which}> belongs in a <service> section; only <${which} link="node"> may ` +
        `serve an <${api.section}> section`,
    );
  }
  return config;
}
