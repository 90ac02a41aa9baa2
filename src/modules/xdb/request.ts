/**
 * Reading `<xdb>` requests and writing their replies (docs/packets.md "xdb"; exact table in src/tree/ROUTING.md "xdb (storage)"),
 * shared by the xdb section's modules, and the section events through which they cooperate.
 *
 * Request: `<xdb type="get|set" to="user@host" from="instance-id" ns="…" id="…">`; a set carries
 * the new element as its first child element (none removes the data), `action="insert"` the item
 * (with an optional `match`, match.ts), `action="remove"` a `match`. Keyed logs (store.ts):
 * a set with `action="append"` to a host carries `<append><item owner key>…</item></append>`
 * (owners of that host); `type="get" action="range"` and a set
 * with `action="trim"` take `start`, `end`, `match`, and for range `limit`, `reverse="true"`,
 * `count="true"`; they answer `<range count?><item key="…">…</item></range>` and
 * `<trimmed count="…"/>`.
 * A get with `action="many"` lists several namespaces in `ns`, separated by spaces, and answers
 * `<data ns="…">element</data>` for each, in the order asked (an empty `<data>`: nothing stored).
 * Reply: `to`/`from` swapped, same `id` and `ns`, `type="result"` (a get's data as child, none
 * when nothing is stored) or `type="error"` with `<error>reason</error>`.
 */
import type { Packet } from "../../tree/packet.ts";
import { Element } from "../../xml/element.ts";
import type { XdbLogEntry, XdbRange } from "../../server/module_api.ts";
import { appendEntries } from "../../server/xdb_client.ts";

export type XdbAction =
  | "get"
  | "many"
  | "set"
  | "insert"
  | "remove"
  | "append"
  | "range"
  | "trim";

export interface XdbRequest {
  action: XdbAction;
  /** The `to` address without resource: `user@host` or `host`. */
  owner: string;
  ns: string;
  /** The new element (set), or the item (insert). */
  data?: Element;
  match?: string;
  /** The items of an append. */
  entries?: XdbLogEntry[];
  /** The items a range or trim covers. */
  range?: XdbRange;
  /** The namespaces of a get of several (`action="many"`), in the order asked. */
  namespaces?: string[];
}

/**
 * Fired by `<kv>` after a get has been read, before the reply goes out:
 * `{ packet, owner, ns, data }` (`data` undefined when nothing is stored).
 */
export const XDB_LOADED = "xdb-loaded";
/** Fired by `<kv>` after a write has been committed, before the reply goes out. */
export const XDB_CHANGED = "xdb-changed";

export interface XdbLoadedEvent {
  packet: Packet;
  owner: string;
  ns: string;
  data: Element | undefined;
}

export interface XdbChangedEvent {
  packet: Packet;
  request: XdbRequest;
}

/** The request a packet carries, undefined for other packets; throws for a malformed one. */
export function readRequest(packet: Packet): XdbRequest | undefined {
  if (packet.kind !== "xdb") return undefined;
  const element = packet.element;
  const { type, to, ns, action, match } = element.attrs;
  if (!to) throw new Error("XDB request has no to address");
  if (!ns) throw new Error("XDB request has no ns attribute");
  const owner = bareOwner(to);
  const data = element.elements[0];
  if (type === "get") {
    if (action === "range") return { action: "range", owner, ns, range: rangeOf(element) };
    if (action === "many") return { action: "many", owner, ns, namespaces: namespacesOf(ns) };
    return { action: "get", owner, ns };
  }
  switch (action) {
    case undefined:
    case "":
      return { action: "set", owner, ns, data };
    case "insert":
      if (!data) throw new Error("XDB insert carries no item to insert");
      return { action: "insert", owner, ns, data, match };
    case "remove":
      if (match === undefined) throw new Error("XDB remove needs a match attribute");
      return { action: "remove", owner, ns, match };
    case "append": {
      if (!data) throw new Error("XDB append carries no items to append");
      const entries = appendEntries(data);
      const host = domainOf(owner);
      for (const entry of entries) {
        if (domainOf(entry.owner) !== host) {
          throw new Error(`XDB append to ${host} names ${entry.owner} of another host`);
        }
      }
      return { action: "append", owner, ns, entries };
    }
    case "trim":
      return { action: "trim", owner, ns, range: rangeOf(element) };
    default:
      throw new Error(
        `XDB set has an unknown action "${action}"; use insert, remove, append or trim`,
      );
  }
}

/**
 * The namespaces of a get of several: `ns` lists them separated by spaces (a namespace holds
 * none). Throws for an empty list or one that names a namespace twice.
 */
export function namespacesOf(ns: string): string[] {
  const namespaces = ns.split(" ").filter((part) => part !== "");
  if (namespaces.length === 0) throw new Error("XDB get of several namespaces names none");
  if (new Set(namespaces).size !== namespaces.length) {
    throw new Error(`XDB get of several namespaces names one twice: "${ns}"`);
  }
  return namespaces;
}

/**
 * The reply to a get of several: each namespace's data inside `<data ns="…">`, in the order
 * asked, an empty `<data>` where nothing is stored.
 */
export function manyReply(
  request: Element,
  namespaces: readonly string[],
  data: readonly (Element | undefined)[],
): Element {
  const reply = replyShell(request, "result");
  for (let i = 0; i < namespaces.length; i++) {
    const found = data[i];
    reply.append(new Element("data", { ns: namespaces[i] }, found ? [found] : []));
  }
  return reply;
}

/** The range attributes of a request (`start`, `end`, `limit`, `reverse`, `match`, `count`). */
export function rangeOf(element: Element): XdbRange {
  const { start, end, limit, reverse, match, count } = element.attrs;
  const range: XdbRange = {};
  if (start !== undefined) range.start = start;
  if (end !== undefined) range.end = end;
  if (match !== undefined) range.match = match;
  if (reverse === "true") range.reverse = true;
  if (count === "true") range.count = true;
  if (limit !== undefined) {
    const n = Number(limit);
    if (!Number.isInteger(n) || n < 0) throw new Error(`XDB range limit "${limit}" is not a count`);
    range.limit = n;
  }
  return range;
}

/** `user@host/resource` → `user@host`. */
export function bareOwner(address: string): string {
  const slash = address.indexOf("/");
  return slash < 0 ? address : address.slice(0, slash);
}

/** The `type="result"` reply, with a get's data as its child. */
export function resultReply(request: Element, data?: Element): Element {
  return replyShell(request, "result", data);
}

/** The `type="error"` reply, with the reason as `<error>` text. */
export function errorResult(request: Element, reason: string): Element {
  return replyShell(request, "error").append(new Element("error", {}, [reason]));
}

/**
 * The reply without data, or around `data`. Built through the constructor, which sets a child's
 * parent only when it has none: data `<cache>` shares between readers stays as it is.
 */
function replyShell(request: Element, type: "result" | "error", data?: Element): Element {
  const attrs: Record<string, string> = { type };
  const { to, from, id, ns } = request.attrs;
  if (from !== undefined) attrs.to = from;
  if (to !== undefined) attrs.from = to;
  if (id !== undefined) attrs.id = id;
  if (ns !== undefined) attrs.ns = ns;
  return new Element("xdb", attrs, data ? [data] : []);
}

/** The host of an owner: `user@host/resource` → `host`. */
function domainOf(owner: string): string {
  const bare = bareOwner(owner);
  return bare.slice(bare.indexOf("@") + 1);
}
