/**
 * The module API (docs/module-api.md): the one door through which every module, built-in or
 * loaded, reaches the server. Everything registered through it is undone when the module unloads.
 */
import type { Adapters, TimerId } from "../adapters/types.ts";
import type { Handler, Phase } from "../tree/handler.ts";
import type { Packet } from "../tree/packet.ts";
import type { RouterStats } from "../tree/router.ts";
import type { Element } from "../xml/element.ts";
import type { Offer } from "./offers.ts";

export type { Offer } from "./offers.ts";

/**
 * The event the server fires on every section a SIGHUP reload leaves running, so its modules
 * re-read what they loaded from files (certificates): `api.hook(CONFIG_RELOADED, …)`.
 */
export const CONFIG_RELOADED = "config-reloaded";

/**
 * The event `Server.stop()` fires on every section before any section stops, while the whole
 * tree (session manager, XDB, logs) still answers: c2s closes its client streams with
 * `system-shutdown` here and tells the session manager, which then finishes each session's
 * unavailable presence and last-logout writes. A hook may return a promise: the server waits
 * for all of them (at most `STOPPING_TIMEOUT_MS`) before it stops the first section.
 */
export const SERVER_STOPPING = "server-stopping";

/** How long `Server.stop()` waits for the `server-stopping` hooks before it stops anyway. */
export const STOPPING_TIMEOUT_MS = 10_000;

/** The name under which the server offers its `ServerView` (`api.offered(SERVER_VIEW)`). */
export const SERVER_VIEW = "server";

/** What the admin API and the status page may read of the running server, and ask of it. */
export interface ServerView {
  /** The running sections: id, kind, hosts, handlers by phase, XDB requests in flight. */
  sections(): {
    id: string;
    kind: SectionKind;
    hosts: readonly string[];
    handlers: { phase: string; label: string }[];
    xdbInFlight: number;
    /** Its XDB round trips by latency (buckets of `XDB_LATENCY_BUCKETS_MS`, then +Inf). */
    xdbLatency: { counts: readonly number[]; sumMs: number; count: number };
  }[];
  /** The router's counters: deliveries per instance and kind, bounces, per-pair queues. */
  routing(): RouterStats;
  /** The process's memory, in bytes. */
  memory(): { rss: number; heapUsed: number };
  /** The delivery tree: per kind, each host pattern and the section ids registered for it. */
  tree(): { kind: string; pattern: string; ids: readonly string[] }[];
  addresses(): (ListenerAddress & { section: string })[];
  /** Re-reads the config as SIGHUP does; false when this server was started without a file. */
  reload(): boolean;
}

/** A listener a module bound, as `publishAddress` makes it known. */
export interface ListenerAddress {
  /** What listens there: `c2s`, `c2s-tls`, `accept`, `s2s`, `http`, … */
  readonly name: string;
  readonly hostname: string;
  readonly port: number;
}

/** The three kinds of config section. */
export type SectionKind = "service" | "xdb" | "log";

/** Log levels, from least to most severe (jabberd 1.4's `notice`/`warn`/`alert` included). */
export type LogLevel = "debug" | "info" | "notice" | "warn" | "error" | "alert";

export const LOG_LEVELS: readonly LogLevel[] = [
  "debug",
  "info",
  "notice",
  "warn",
  "error",
  "alert",
];

/** Sends `<log type=level from=host>` packets through the tree. */
export interface Logger {
  /** `host` is what the line is about (the log packet's `from`); default the section's id. */
  log(level: LogLevel, text: string, host?: string): void;
  debug(text: string, host?: string): void;
  info(text: string, host?: string): void;
  notice(text: string, host?: string): void;
  warn(text: string, host?: string): void;
  error(text: string, host?: string): void;
  alert(text: string, host?: string): void;
}

/**
 * Reads and writes XDB through `<xdb>` packets (ROUTING.md, "xdb"). `owner` is `user@host` or
 * `host`; `ns` names the data. Every call settles: a reply, an error reply, or a timeout error.
 */
export interface XdbClient {
  /** The stored element for owner+ns, or undefined when nothing is stored. */
  get(owner: string, ns: string): Promise<Element | undefined>;
  /**
   * Several namespaces of one owner in one request, in the order asked (ROUTING.md "xdb",
   * `action="many"`). Optional: `xdbGetMany()` in `xdb_client.ts` falls back to one `get` each.
   */
  getMany?(owner: string, namespaces: readonly string[]): Promise<(Element | undefined)[]>;
  /** Replaces the stored element (undefined removes it). */
  set(owner: string, ns: string, data: Element | undefined): Promise<void>;
  /**
   * Inserts one child item, or replaces the child that `match` selects (`item?jid=a@b`:
   * the first child named `item` whose `jid` attribute is `a@b`). Without `match`, appends.
   */
  insert(owner: string, ns: string, item: Element, match?: string): Promise<void>;
  /** Removes the child that `match` selects. */
  remove(owner: string, ns: string, match: string): Promise<void>;
  /**
   * Keyed logs (an archive), beside the element of owner+ns: stores each entry's `item` under
   * its `key` in its owner's log, one KV value each, keys sorted as strings (start them with the
   * time to read by time). One request for many owners of one `host`, committed together.
   */
  append(host: string, ns: string, entries: readonly XdbLogEntry[]): Promise<void>;
  /** The items of owner+ns's keyed log that `range` selects, in key order. */
  range(owner: string, ns: string, range: XdbRange): Promise<XdbRangeResult>;
  /** Deletes the items of owner+ns's keyed log that `range` selects; resolves to how many. */
  trim(owner: string, ns: string, range: XdbRange): Promise<number>;
}

/** One item to append to a keyed log. */
export interface XdbLogEntry {
  /** `user@host` (of the request's host) or the host itself. */
  owner: string;
  key: string;
  item: Element;
}

/** Which items of a keyed log: keys in [start, end), at most `limit` of those `match` selects. */
export interface XdbRange {
  start?: string;
  end?: string;
  limit?: number;
  /** Newest (largest key) first. */
  reverse?: boolean;
  /** Only items whose name and attributes this match (match.ts) selects. */
  match?: string;
  /** Also count every selected item of the range, beyond `limit`. */
  count?: boolean;
}

/** A range read: the items in key order (reversed with `reverse`), and the count if asked. */
export interface XdbRangeResult {
  items: { key: string; item: Element }[];
  count?: number;
}

/** Timers that are cleared when the module unloads. */
export interface Timers {
  setTimeout(callback: () => void, ms: number): TimerId;
  clearTimeout(id: TimerId): void;
  setInterval(callback: () => void, ms: number): TimerId;
  clearInterval(id: TimerId): void;
  now(): number;
}

export interface ModuleApi {
  /** The section's id; it is also a routable host. */
  readonly id: string;
  readonly section: SectionKind;
  /**
   * This module's element from the config file. Its settings are read with the schema the module
   * declares for its validator: `SETTINGS.read(api.config)` (src/config/options.ts).
   */
  readonly config: Element;
  readonly adapters: Adapters;
  /** Resolves a path as written in the config, relative to the config file's folder. */
  resolvePath(path: string): string;
  /** Puts a handler on the section's chain. */
  handle(phase: Phase, handler: Handler): void;
  /** Listens to an event fired in this section; higher priority runs first. */
  hook<T>(event: string, handler: (data: T) => unknown, priority?: number): void;
  /** Runs an event's hooks in priority order until one returns something other than undefined. */
  fire<T>(event: string, data: T): unknown;
  /** Sends a packet into the tree. */
  deliver(packet: Element | Packet, cause?: Packet): void;
  /** Registers the section for a host pattern (`example.org`, `*.example.org`, `*`). */
  addHost(pattern: string): void;
  removeHost(pattern: string): void;
  /** The host patterns this section registered so far (by `<host>` or `addHost`), in order. */
  readonly hosts: readonly string[];
  /**
   * True when the delivery tree sends this section the normal packets for `domain` through one
   * of its hosts (exact, `*.domain` or `*`; ROUTING.md R3), not through its id or as the uplink.
   * Ask this instead of matching `hosts` again: the tree is the one place that decides.
   */
  servesHost(domain: string): boolean;
  /**
   * The exact host names the tree routes normal packets for to other sections (their ids and
   * `<host>`s, components behind `<accept>`), lowercased; wildcards and the uplink left out. The
   * session manager lists those under its domain as services (XEP-0030 disco#items).
   */
  routedHosts(): string[];
  /**
   * Makes a bound listener's address known (c2s, `<accept>`, s2s, http): `Server.addresses()`
   * lists them for tests, the status page and `jabberd status`. Withdrawn when the module
   * unloads, or by calling the returned function.
   */
  publishAddress(address: ListenerAddress): () => void;
  /**
   * Offers an object to the other sections of this server under `name` (c2s offers
   * `C2S_STREAMS`, its stream acceptor, to the http component). Withdrawn when the module
   * unloads, or by calling the returned function.
   */
  offer(name: string, value: unknown): () => void;
  /** What sections (and the server itself, `SERVER_VIEW`) offer under `name`, oldest first. */
  offered<T>(name: string): Offer<T>[];
  /** Registers the section as the default route for its kinds (`<uplink/>`). */
  addUplink(): void;
  readonly xdb: XdbClient;
  readonly log: Logger;
  readonly timer: Timers;
  /**
   * Runs when the section stops: after its hosts left the tree and the deliveries it took have
   * finished, while XDB still answers (flush, and wait for your own pending work, here); its
   * handlers, hooks and timers are removed afterwards.
   */
  onUnload(callback: () => void | Promise<void>): void;
}

/** Where a validator reports what is wrong; each problem carries the element's position. */
export interface ValidationContext {
  /** A mistake: `check` fails and the server does not start. */
  problem(at: Element, message: string): void;
  /** Legal but probably not meant. */
  warning(at: Element, message: string): void;
}

/** What a module file provides. Nothing registers itself on import. */
export interface ModuleDefinition {
  /**
   * The element that turns the module on: a local name without namespace for base modules
   * (`host`, `kv`), or a namespace for components (`jabberd:config:c2s`).
   */
  readonly element: string;
  /** The sections it may appear in. */
  readonly sections: readonly SectionKind[];
  /** Checks the element's settings; `check` runs every validator before anything starts. */
  validate?(element: Element, context: ValidationContext): void;
  register(api: ModuleApi): void | Promise<void>;
}
