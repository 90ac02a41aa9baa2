/**
 * A message archive (XEP-0313 §4), a user's or a MUC room's, on XDB's keyed logs: one KV value
 * per message under its archive id (ids.ts), so a query by time or id is one range of keys and a
 * `with` filter a match on the stored item's attributes. Writes go out at once and are not
 * waited for by routing; a query of an archive first waits for that archive's writes in flight.
 *
 * Backpressure: at most `maxQueued` messages wait unwritten (queued or in a request in flight);
 * above that `full` is true and `room()` tells when to go on, so that the session manager holds
 * the sender back (ROUTING.md R34) instead of letting memory grow with the backlog.
 *
 * Stored item: `<m with="bare JID" jid="full JID" stamp="ISO time">message</m>`, the message as
 * the archive owner sent or received it (a room: as it broadcast it, `with` its sender's real
 * JID), without the stanza-id that names this entry.
 */
import type { Timers, XdbClient, XdbLogEntry } from "../server/module_api.ts";
import { xdbMatch } from "../server/xdb_client.ts";
import { StanzaError } from "../util/errors.ts";
import type { JID } from "../util/jid.ts";
import { NS_MAM, NS_SID } from "../util/ns.ts";
import { Element } from "../xml/element.ts";
import { after } from "./ids.ts";
import type { MamQuery } from "./query.ts";

/** One archived message, as a query returns it. */
export interface Archived {
  id: string;
  /** When it was archived (ISO 8601). */
  stamp: string;
  message: Element;
}

/** One page of a query (XEP-0059 §2.6): results oldest first, and what `<fin>` says. */
export interface Page {
  items: Archived[];
  /** True when no page follows in the direction of paging (XEP-0313 §4.3). */
  complete: boolean;
  count: number;
}

export interface PageLimits {
  /** The page size when the client gives no `<max>`. */
  page: number;
  /** The largest page served, whatever `<max>` asks. */
  maxPage: number;
}

/** Removes the stanza-ids that claim to be `by` (XEP-0359 §3.1: only the server sets them). */
export function stripStanzaIds(stanza: Element, by: string): void {
  const forged = (child: Element | string) =>
    typeof child !== "string" && child.is("stanza-id", NS_SID) && child.attrs.by === by;
  // Almost no message carries one: no new array for those (this runs for every message).
  if (!stanza.children.some(forged)) return;
  stanza.children = stanza.children.filter((child) => !forged(child));
}

/** A group of appends of one host, sent as one XDB request. */
interface Batch {
  entries: XdbLogEntry[];
  /** Settles (never rejects) once the request was answered. */
  done: Promise<void>;
  settle(): void;
}

/**
 * Below this many characters of text and attributes a message surely fits one KV value as
 * stored (codec.ts: 32,000 UTF-16 units of JSON, with its quoting and structure).
 */
const MAX_ARCHIVED_CHARS = 24_000;
/** Messages waiting unwritten before senders are held back (see `full`). */
const MAX_QUEUED = 5_000;

export interface ArchiveOptions {
  /** Messages waiting unwritten before `full` is true (default 5000). */
  maxQueued?: number;
  /**
   * How long a request waits for more messages before it goes out (default 0: after the current
   * run of the event loop), on `timer`. A query, `idle()` and a full queue send at once.
   */
  delayMs?: number;
  timer?: Pick<Timers, "setTimeout">;
}

export class Archive {
  readonly #xdb: XdbClient;
  readonly #failed: (what: string, error: unknown) => void;
  /** Per host, the appends waiting for the request in flight to be answered. */
  readonly #waiting = new Map<string, Batch>();
  /** Per host, the append request in flight: one at a time, so that appends group up. */
  readonly #sending = new Map<string, Promise<void>>();
  /** Per owner, other writes in flight (preferences, registrations, trims). */
  readonly #writes = new Map<string, Set<Promise<unknown>>>();
  readonly #maxQueued: number;
  readonly #delayMs: number;
  readonly #timer: Pick<Timers, "setTimeout"> | undefined;
  /** Messages added and not yet written (waiting, or in a request in flight). */
  #queued = 0;
  /** Resolved when `#queued` falls below the bound again. */
  #room: { promise: Promise<void>; resolve(): void } | undefined;

  constructor(
    xdb: XdbClient,
    failed: (what: string, error: unknown) => void,
    options: ArchiveOptions = {},
  ) {
    this.#xdb = xdb;
    this.#failed = failed;
    this.#maxQueued = options.maxQueued ?? MAX_QUEUED;
    this.#delayMs = options.delayMs ?? 0;
    this.#timer = options.timer;
    if (this.#delayMs > 0 && !this.#timer) throw new RangeError("delayMs needs a timer");
    if (!(this.#maxQueued >= 1)) throw new RangeError("maxQueued must be at least 1");
  }

  /** True when so many messages wait unwritten that senders should wait for `room()`. */
  get full(): boolean {
    return this.#queued >= this.#maxQueued;
  }

  /** How many messages wait unwritten. */
  get queued(): number {
    return this.#queued;
  }

  /** Resolves once fewer than the bound of messages wait unwritten (at once when already so). */
  room(): Promise<void> {
    if (!this.full) return Promise.resolve();
    if (!this.#room) {
      let resolve!: () => void;
      const promise = new Promise<void>((done) => resolve = done);
      this.#room = { promise, resolve };
    }
    return this.#room.promise;
  }

  /** True when `message` is small enough to archive (one KV value per message). */
  fits(message: Element): boolean {
    return charsOf(message) <= MAX_ARCHIVED_CHARS;
  }

  /**
   * Stores `message` (exchanged with `peer`) in `owner`'s archive under `id`, in the background:
   * appended to the next request of the owner's host, which goes out as soon as the previous one
   * was answered (group commit, as XdbStore does below it).
   */
  add(owner: string, id: string, peer: JID, message: Element, ms: number): void {
    const copy = message.clone();
    stripStanzaIds(copy, owner);
    const item = new Element("m", {
      with: peer.bareString(),
      jid: peer.toString(),
      stamp: new Date(ms).toISOString(),
    }, [copy]);
    const host = owner.slice(owner.indexOf("@") + 1);
    let batch = this.#waiting.get(host);
    if (!batch) {
      let settle!: () => void;
      const done = new Promise<void>((resolve) => settle = resolve);
      batch = { entries: [], done, settle };
      this.#waiting.set(host, batch);
      // Sent after the current run of the event loop (or `delayMs`), so that a burst becomes
      // one request; while a request is in flight, the next one waits for its answer.
      if (!this.#sending.has(host)) {
        if (this.#delayMs > 0) this.#timer!.setTimeout(() => this.#send(host), this.#delayMs);
        else queueMicrotask(() => this.#send(host));
      }
    }
    batch.entries.push({ owner, key: id, item });
    this.#queued++;
    // Full: whoever waits for room should not also wait for the delay.
    if (this.full && this.#delayMs > 0) queueMicrotask(() => this.#send(host));
  }

  #send(host: string): void {
    const batch = this.#waiting.get(host);
    if (!batch || this.#sending.has(host)) return;
    this.#waiting.delete(host);
    const sending = this.#xdb.append(host, NS_MAM, batch.entries).catch((error) => {
      this.#failed(`${batch.entries.length} messages of ${host}`, error);
    }).finally(() => {
      batch.settle();
      this.#queued -= batch.entries.length;
      if (this.#room && !this.full) {
        this.#room.resolve();
        this.#room = undefined;
      }
      this.#sending.delete(host);
      this.#send(host);
    });
    this.#sending.set(host, sending);
  }

  /** Counts `work` among `owner`'s writes in flight; its failure is reported, not thrown. */
  track(owner: string, work: Promise<unknown>): void {
    let writes = this.#writes.get(owner);
    if (!writes) this.#writes.set(owner, writes = new Set());
    const done = work.catch((error) => this.#failed(owner, error)).finally(() => {
      writes.delete(done);
      if (writes.size === 0 && this.#writes.get(owner) === writes) this.#writes.delete(owner);
    });
    writes.add(done);
  }

  /** Resolves once the writes to `owner`'s archive started before now have settled. */
  async settled(owner: string): Promise<void> {
    const host = owner.slice(owner.indexOf("@") + 1);
    this.#send(host); // a reader does not wait for the delay
    await Promise.all([
      this.#sending.get(host),
      this.#waiting.get(host)?.done,
      ...this.#writes.get(owner) ?? [],
    ]);
  }

  /** Resolves once no write is in flight (the section stops). */
  async idle(): Promise<void> {
    while (this.#writes.size + this.#waiting.size + this.#sending.size > 0) {
      for (const host of [...this.#waiting.keys()]) this.#send(host);
      await Promise.all([
        ...this.#sending.values(),
        ...[...this.#waiting.values()].map((batch) => batch.done),
        ...[...this.#writes.values()].flatMap((writes) => [...writes]),
      ]);
    }
  }

  /** One page of `owner`'s archive for `query`; item-not-found for an id it does not hold. */
  async page(owner: string, query: MamQuery, limits: PageLimits): Promise<Page> {
    await this.settled(owner);
    const match = query.with === undefined
      ? undefined
      : query.with.isBare
      ? xdbMatch("m", { with: query.with.bareString() })
      : xdbMatch("m", { jid: query.with.toString() });
    if (query.ids) {
      const found = await Promise.all(query.ids.map((id) => this.#one(owner, id, match)));
      const items = found.filter((item) => item !== undefined).sort((a, b) => a.id < b.id ? -1 : 1);
      return { items, complete: true, count: items.length };
    }
    for (const id of [...query.mustExist, query.after, query.before || undefined]) {
      if (id !== undefined && !(await this.#one(owner, id))) {
        throw new StanzaError("item-not-found", `No archived message has the id ${id}`);
      }
    }
    const max = Math.min(query.max ?? limits.page, limits.maxPage);
    let start = query.start;
    let end = query.end;
    if (query.after !== undefined && (start === undefined || after(query.after) > start)) {
      start = after(query.after);
    }
    if (query.before && (end === undefined || query.before < end)) end = query.before;
    const reverse = query.before !== undefined;
    const [listed, total] = await Promise.all([
      max === 0
        ? Promise.resolve({ items: [] })
        : this.#xdb.range(owner, NS_MAM, { start, end, match, reverse, limit: max + 1 }),
      this.#xdb.range(owner, NS_MAM, {
        start: query.start,
        end: query.end,
        match,
        limit: 0,
        count: true,
      }),
    ]);
    const items = listed.items.slice(0, max).map(({ key, item }) => archived(key, item));
    if (reverse) items.reverse();
    const count = total.count ?? 0;
    return { items, complete: max === 0 ? count === 0 : listed.items.length <= max, count };
  }

  /** The oldest and newest message of `owner`'s archive (§7 metadata). */
  async bounds(owner: string): Promise<{ first?: Archived; last?: Archived }> {
    await this.settled(owner);
    const [first, last] = await Promise.all(
      [false, true].map((reverse) => this.#xdb.range(owner, NS_MAM, { limit: 1, reverse })),
    );
    const of = (result: typeof first) =>
      result.items[0] && archived(result.items[0].key, result.items[0].item);
    return { first: of(first), last: of(last) };
  }

  /** Deletes `owner`'s messages with ids below `end` (retention) or all; resolves to how many. */
  trim(owner: string, end?: string): Promise<number> {
    return this.#xdb.trim(owner, NS_MAM, end === undefined ? {} : { end });
  }

  async #one(owner: string, id: string, match?: string): Promise<Archived | undefined> {
    const { items } = await this.#xdb.range(owner, NS_MAM, {
      start: id,
      end: after(id),
      match,
      limit: 1,
    });
    return items[0] && archived(items[0].key, items[0].item);
  }
}

function archived(id: string, item: Element): Archived {
  return { id, stamp: item.attrs.stamp ?? "", message: item.elements[0] };
}

/** The characters of an element's names, attributes and text: a bound of its stored size. */
function charsOf(element: Element): number {
  let chars = element.name.length;
  for (const name in element.attrs) chars += name.length + element.attrs[name].length + 8;
  for (const child of element.children) {
    chars += typeof child === "string" ? child.length : charsOf(child);
  }
  return chars;
}
