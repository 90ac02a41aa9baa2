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
 *   its roster, offline messages, blocklist, vCard and archiving preferences. With `prefetch` (on by default) a
 *   credentials read that is not cached is answered from ONE get of the credentials and those of
 *   the others not cached (`action="many"`, ROUTING.md "xdb"), which `<kv>` answers with one batch
 *   of KV reads, so a login waits for the store once, and the session manager's reads are hits.
 *   Only a credentials read by a section that never read those (c2s authenticating) does
 *   this: the session manager reads credentials too, to learn whether an account exists (a
 *   presence probe to a contact offline), and that is no login.
 * - A get of several namespaces is answered here when all are cached, else by `<kv>`, which
 *   announces each namespace on `xdb-loaded`.
 * - Rosters (KEPT_UNTIL_READ) are kept only when read ahead for a login, and only until the
 *   first get takes them: the session manager keeps what presence needs of a roster itself
 *   while the user is online (docs/runtime-notes.md "Memory per session"); a roster of 50
 *   contacts as an element tree is about 39 KB, most of a session's memory when every online
 *   user's roster stayed cached. Other reads of a roster (PEP access, MAM preferences, last
 *   activity, probes to offline users) go to the store.
 */
import { boolean, duration, integer, options } from "../../config/options.ts";
import { Element } from "../../xml/element.ts";
import type { ModuleDefinition } from "../../server/module_api.ts";
import type { Packet } from "../../tree/packet.ts";
import { xdbGetMany } from "../../server/xdb_client.ts";
import {
  errorResult,
  manyReply,
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
  // The archiving preferences, read at bind (sm/features/mam).
  "urn:xmpp:mam:2",
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
 * Namespaces whose readers never change what a get hands them (audited: the roster features,
 * PEP, MAM, last activity and export for the roster; c2s SASL, the account functions and export
 * for credentials; the blocking feature; vCard answers, photo hashes, avatar conversion and
 * export, which copy before changing): a hit hands out the cached element itself, and a read is
 * cached without a copy. Packets are immutable once delivered (src/tree/ROUTING.md R8), and an
 * xdb reply is one. A login with 50 contacts answers 50 presence probes, each reading the
 * contact's roster; copying it each time was most of the garbage of a login.
 */
const SHARED = new Set([
  "jabber:iq:roster",
  "jabberd:credentials",
  "urn:xmpp:blocking",
  "vcard-temp",
]);

/**
 * What a hit hands out: for SHARED namespaces a new root over the cached attributes and
 * children, else a copy of its own. Never the cached element itself: a reply that takes an
 * element in becomes its `parent`, and a cached element with a parent keeps that whole reply
 * alive as long as it is cached (with a login's read-ahead in it, every namespace it read).
 */
function copyOf(ns: string, data: Element | undefined): Element | undefined {
  if (!data || !SHARED.has(ns)) return data?.clone();
  return new Element(data.name, data.attrs, data.children, data.ns);
}

/**
 * Namespaces kept only when read ahead for a login, and handed out to the first get that asks,
 * then forgotten (see the file comment).
 */
export const KEPT_UNTIL_READ: ReadonlySet<string> = new Set(["jabber:iq:roster"]);

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

    /**
     * Answers the credentials read `packet` with one get of the credentials and every login
     * namespace of `owner` not cached (ROUTING.md "xdb", `action="many"`): one request, one
     * batch of KV reads, and the session manager's reads that follow are hits.
     */
    const prefetchLogin = (packet: Packet, owner: string) => {
      const now = api.timer.now();
      const namespaces = [NS_CREDENTIALS];
      for (const ns of LOGIN_NAMESPACES) {
        const key = keyOf({ owner, ns });
        const entry = entries.get(key);
        if (entry && entry.expires > now) continue;
        namespaces.push(ns);
        if (KEPT_UNTIL_READ.has(ns)) readAhead.add(key);
      }
      if (readAhead.size > max) readAhead.clear();
      // Through this section's own XDB client: the request passes here and `<kv>` as any other,
      // so the data lands in the cache on `xdb-loaded`. Where sections split the namespaces the
      // client reads each alone; a failed read of the sm's data leaves nothing behind, and the
      // session manager's own read tries again.
      xdbGetMany(api.xdb, owner, namespaces).then(
        ([credentials]) => resultReply(packet.element, credentials),
        (error) =>
          errorResult(packet.element, error instanceof Error ? error.message : String(error)),
      ).then((reply) => {
        if (reply.attrs.to) api.deliver(reply, packet);
      });
    };

    const entries = new LruMap<Entry>(max);
    /** Keys of KEPT_UNTIL_READ namespaces read ahead for a login: the only ones kept. */
    const readAhead = new Set<string>();
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
      if (request.action === "many") {
        const now = api.timer.now();
        const namespaces = request.namespaces!;
        const data: (Element | undefined)[] = [];
        for (const ns of namespaces) {
          if (prefetch && loginNamespaces.has(ns)) dataReaders.add(packet.element.attrs.from ?? "");
          const entry = entries.get(keyOf({ owner: request.owner, ns }));
          if (!entry || entry.expires <= now) break;
          data.push(copyOf(ns, entry.data));
        }
        if (data.length === namespaces.length) {
          for (const ns of namespaces) {
            if (KEPT_UNTIL_READ.has(ns)) entries.delete(keyOf({ owner: request.owner, ns }));
          }
          const reply = manyReply(packet.element, namespaces, data);
          if (reply.attrs.to) api.deliver(reply, packet);
          return "done";
        }
        started.set(packet, sequence);
        return "pass";
      }
      const key = keyOf(request);
      if (request.action === "get") {
        if (prefetch && loginNamespaces.has(request.ns)) {
          dataReaders.add(packet.element.attrs.from ?? "");
        }
        const entry = entries.get(key);
        if (entry && entry.expires > api.timer.now()) {
          if (KEPT_UNTIL_READ.has(request.ns)) entries.delete(key);
          const reply = resultReply(packet.element, copyOf(request.ns, entry.data));
          if (reply.attrs.to) api.deliver(reply, packet);
          return "done";
        }
        if (entry) entries.delete(key);
        // This get reads it from the store itself: a read ahead landing later is not kept.
        if (KEPT_UNTIL_READ.has(request.ns)) readAhead.delete(key);
        const reader = packet.element.attrs.from ?? "";
        // Not for this section's own reads: its client reads each namespace alone when sections
        // split them, and that credentials read must go on to `<kv>`.
        if (
          prefetch && request.ns === NS_CREDENTIALS && reader !== api.id &&
          !dataReaders.has(reader)
        ) {
          prefetchLogin(packet, request.owner);
          return "done";
        }
        started.set(packet, sequence);
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
      if (KEPT_UNTIL_READ.has(ns) && !readAhead.delete(key)) return;
      if (since === undefined || since < forgotten || (lastWrite.get(key) ?? 0) > since) return;
      // A copy of its own: the reply about to carry `data` becomes its parent, and a cached element
      // with a parent keeps that reply alive, with every namespace of a login's read-ahead in it
      // (measured: a 50-contact roster, ~39 KB, held per session by the cached credentials).
      entries.set(key, {
        data: data?.clone(),
        expires: api.timer.now() + timeoutMs,
      });
    });

    api.hook<XdbChangedEvent>(XDB_CHANGED, ({ packet, request }) => {
      const key = keyOf(request);
      entries.delete(key);
      const mine = started.get(packet);
      if (
        request.action === "set" && mine !== undefined && lastWrite.get(key) === mine &&
        !KEPT_UNTIL_READ.has(request.ns)
      ) {
        entries.set(key, { data: request.data?.clone(), expires: api.timer.now() + timeoutMs });
      }
    });
  },
};
