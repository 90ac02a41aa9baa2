/**
 * `<cache timeout="30s" max="10000"/>` in an `<xdb>` section: answers repeated gets from memory
 * (docs/architecture.md "Base modules": a read cache invalidated on writes).
 *
 * - A get that `<kv>` answered is kept for `timeout` (default 30 s, on `api.timer.now()`), per
 *   owner+namespace, at most `max` entries (default 10,000; least recently used go first). Results
 *   "nothing stored" are kept too.
 * - In the `cond` phase a get found in the cache is answered from it (`done`); `<kv>` never sees
 *   it. Misses go on to `<kv>`, which fires `xdb-loaded` with the data.
 * - A write drops the entry as it passes (`cond`) and again once committed (`xdb-changed`); a
 *   committed set stores the new element, unless a later write is still on its way.
 * - A get that started before a write to the same data is not cached when it completes after it:
 *   every write gets a sequence number, and a read is kept only if no write to its key started
 *   after the read did. That table is bounded too; a read older than its forgotten part is not
 *   kept.
 * - A login reads the account's credentials first, and moments later the session manager reads
 *   its roster, offline messages, blocklist and vCard, one after another. With `prefetch` (on by
 *   default) a credentials read that is not cached starts the reads of those four at once, into
 *   the cache, so a login waits for the store once instead of five times in a row (a cold login
 *   took 2.6 ms of waiting per read at 50 logins in parallel). Only a credentials read by a section that never read those four
 *   (c2s authenticating) starts them: the session manager reads credentials too, to learn whether
 *   an account exists (a presence probe to a contact offline), and that is no login.
 */
import { boolean, duration, integer, options } from "../../config/options.ts";
import { Element } from "../../xml/element.ts";
import type { ModuleDefinition } from "../../server/module_api.ts";
import type { Packet } from "../../tree/packet.ts";
import {
  readRequest,
  resultReply,
  XDB_CHANGED,
  XDB_LOADED,
  type XdbChangedEvent,
  type XdbLoadedEvent,
  type XdbRequest,
} from "./request.ts";

const CACHE = options({
  timeout: duration(30_000),
  max: integer(10_000, { min: 1 }),
  prefetch: boolean(true),
});

/** What every login reads: the account's credentials, then the sm's per-user data. */
const NS_CREDENTIALS = "jabberd:credentials";
export const LOGIN_NAMESPACES: readonly string[] = [
  "jabber:iq:roster",
  "jabber:x:offline",
  "urn:xmpp:blocking",
  "vcard-temp",
];

interface Entry {
  data: Element | undefined;
  expires: number;
}

/** A map that forgets its least recently used entries beyond `max`. */
export class LruMap<V> {
  readonly #map = new Map<string, V>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: string): V | undefined {
    const value = this.#map.get(key);
    if (value !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, value);
    }
    return value;
  }

  /** Stores a value; returns the entry evicted to make room, if any. */
  set(key: string, value: V): [string, V] | undefined {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size <= this.#max) return undefined;
    const [oldest, old] = this.#map.entries().next().value!;
    this.#map.delete(oldest);
    return [oldest, old];
  }

  delete(key: string): void {
    this.#map.delete(key);
  }
}

/**
 * Namespaces whose readers never change what a get hands them below its root (audited: the
 * roster features, PEP, MAM, last activity, export): a hit shares the cached children instead of
 * copying them. A login with 50 contacts answers 50 presence probes, each reading the contact's
 * roster; copying 50 items with their groups each time was most of the garbage of a login.
 */
const SHARED_BELOW_ROOT = new Set(["jabber:iq:roster"]);

/** What a hit hands out: its own copy, or for SHARED_BELOW_ROOT a new root over shared children. */
function copyOf(ns: string, data: Element | undefined): Element | undefined {
  if (!data || !SHARED_BELOW_ROOT.has(ns)) return data?.clone();
  return new Element(data.name, { ...data.attrs }, [...data.children], data.ns);
}

function keyOf(request: { owner: string; ns: string }): string {
  return request.owner + "\u0000" + request.ns;
}

export const cacheModule: ModuleDefinition = {
  element: "cache",
  sections: ["xdb"],
  validate(element, context) {
    const { timeout } = CACHE.validate(element, context);
    if (timeout === 0) context.warning(element, "<cache timeout> of 0 caches nothing");
  },
  register(api) {
    const { timeout: timeoutMs, max, prefetch } = CACHE.read(api.config);
    const loginNamespaces = new Set(LOGIN_NAMESPACES);
    /** The sections that read the login namespaces (the session managers). */
    const dataReaders = new Set<string>();

    /** Reads the login namespaces of `owner` that are not cached into the cache. */
    const prefetchLogin = (owner: string) => {
      const now = api.timer.now();
      for (const ns of LOGIN_NAMESPACES) {
        const entry = entries.get(keyOf({ owner, ns }));
        if (entry && entry.expires > now) continue;
        // Through this section's own XDB client: the read passes here and `<kv>` as any other
        // (the data lands in the cache on `xdb-loaded`); a failed read leaves nothing behind and
        // the session manager's own read tries again.
        api.xdb.get(owner, ns).catch(() => {});
      }
    };

    const entries = new LruMap<Entry>(max);
    /** Per key, the sequence number of the last write that passed. */
    const lastWrite = new LruMap<number>(max);
    /** Reads that started at or before this sequence number are never cached. */
    let forgotten = 0;
    let sequence = 0;
    /** The sequence number current when each pending get or write passed. */
    const started = new WeakMap<Packet, number>();

    api.handle("cond", (packet) => {
      let request: XdbRequest | undefined;
      try {
        request = readRequest(packet);
      } catch {
        return "pass"; // malformed: `<kv>` answers the error
      }
      if (!request) return "pass";
      const key = keyOf(request);
      if (request.action === "get") {
        if (prefetch && loginNamespaces.has(request.ns)) {
          dataReaders.add(packet.element.attrs.from ?? "");
        }
        const entry = entries.get(key);
        if (entry && entry.expires > api.timer.now()) {
          const reply = resultReply(packet.element, copyOf(request.ns, entry.data));
          if (reply.attrs.to) api.deliver(reply, packet);
          return "done";
        }
        if (entry) entries.delete(key);
        started.set(packet, sequence);
        const reader = packet.element.attrs.from ?? "";
        if (prefetch && request.ns === NS_CREDENTIALS && !dataReaders.has(reader)) {
          prefetchLogin(request.owner);
        }
        return "pass";
      }
      sequence++;
      const evicted = lastWrite.set(key, sequence);
      if (evicted) forgotten = Math.max(forgotten, evicted[1]);
      started.set(packet, sequence);
      entries.delete(key);
      return "pass";
    });

    api.hook<XdbLoadedEvent>(XDB_LOADED, ({ packet, owner, ns, data }) => {
      const since = started.get(packet);
      const key = keyOf({ owner, ns });
      if (since === undefined || since < forgotten || (lastWrite.get(key) ?? 0) > since) return;
      entries.set(key, { data: data?.clone(), expires: api.timer.now() + timeoutMs });
    });

    api.hook<XdbChangedEvent>(XDB_CHANGED, ({ packet, request }) => {
      const key = keyOf(request);
      entries.delete(key);
      const mine = started.get(packet);
      if (request.action === "set" && mine !== undefined && lastWrite.get(key) === mine) {
        entries.set(key, { data: request.data?.clone(), expires: api.timer.now() + timeoutMs });
      }
    });
  },
};
