/**
 * The stream itself (RFC 6120 §4): what a c2s connection and its negotiation steps share, the
 * header we answer with, the checks of the client's header (§4.7), and stream errors (§4.9).
 */
import type { Connection, ServerTlsOptions } from "../../adapters/types.ts";
import type { Logger, Timers, XdbClient } from "../../server/module_api.ts";
import { StreamError } from "../../util/errors.ts";
import { NS_CLIENT } from "../../util/ns.ts";
import type { Element } from "../../xml/element.ts";
import type { C2sConfig } from "./config.ts";
import type { Registration } from "./register.ts";
import type { C2sCounters } from "../../server/c2s_streams.ts";

/** What a connection needs from its c2s instance. */
export interface C2sContext {
  /** The c2s section id: route packets come from `{id}/{connection-id}`. */
  readonly id: string;
  readonly config: C2sConfig;
  readonly timer: Timers;
  readonly log: Logger;
  readonly xdb: XdbClient;
  readonly registration: Registration | undefined;
  /** Logins and failures, for the admin API and metrics. */
  readonly counters: C2sCounters;
  deliver(element: Element): void;
  tls(): ServerTlsOptions;
  /** Called once when the connection is gone. */
  closed(connection: { readonly id: string; readonly remoteAddress: string }): void;
}

/** A connection as its negotiation steps (STARTTLS, SASL, registration) see it. */
export interface StreamControl {
  /** The connection id, for logs. */
  readonly id: string;
  readonly ctx: C2sContext;
  readonly conn: Connection;
  /** The host the client's stream header named (known before any stanza arrives). */
  readonly domain: string;
  write(data: string): void;
  /** The client starts a new stream next: forget what the parser holds (RFC 6120 §4.3.3). */
  restart(): void;
  /** Closes the connection; whatever the client must read was written before. */
  end(): void;
  /** Ends our stream as the transport frames it (`</stream:stream>`, `<close/>`), then `end()`. */
  close(): void;
}

/** The host a client's header asks for (`to`, normalized), when this c2s serves it. */
export function servedHost(header: Element, domains: readonly string[]): string | undefined {
  const to = header.attrs.to?.toLowerCase().replace(/\.$/, "");
  return to !== undefined && domains.includes(to) ? to : undefined;
}

/**
 * Checks a client's stream header once ours is written (RFC 6120 §4.7, §4.8): the namespace,
 * a served host that does not change on a restart, and version 1.x. Throws the stream error.
 */
export function checkHeader(
  header: Element,
  host: string | undefined,
  previous: string | undefined,
): string {
  if ((header.attrs.xmlns ?? "") !== NS_CLIENT) {
    throw new StreamError("invalid-namespace", `The default namespace must be ${NS_CLIENT}`);
  }
  if (host === undefined) {
    throw new StreamError("host-unknown", "This server does not serve that host");
  }
  if (previous !== undefined && host !== previous) {
    throw new StreamError("host-unknown", "The host must not change on a stream restart");
  }
  const version = header.attrs.version;
  if (version === undefined || !/^1\.\d+$/.test(version)) {
    throw new StreamError("unsupported-version", "This server speaks XMPP version 1.0");
  }
  return host;
}

/** How often the module ticks its connections: often enough for the keepalive and idle limits. */
export function tickInterval(limits: { keepalive: number; idleTimeout: number }): number {
  return Math.max(1000, Math.min(limits.keepalive, limits.idleTimeout) / 2);
}
