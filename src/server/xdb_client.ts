/**
 * The client side of XDB: turns `api.xdb` calls into `<xdb>` packets addressed to the owner's
 * host and correlates the replies, which come back as normal packets to the section's id
 * (ROUTING.md, "xdb"). Every request settles: a result, an error reply, or a timeout.
 */
import type { Clock } from "../adapters/types.ts";
import { StanzaError } from "../util/errors.ts";
import type { Packet } from "../tree/packet.ts";
import { Element } from "../xml/element.ts";
import type { XdbClient, XdbLogEntry, XdbRange, XdbRangeResult } from "./module_api.ts";

export interface XdbClientOptions {
  /** The requesting section's id: replies are addressed to it. */
  from: string;
  deliver(element: Element): void;
  clock: Clock;
  /** How long to wait for a reply (default 10 s). */
  timeoutMs?: number;
}

interface Pending {
  resolve(reply: Element): void;
  reject(error: Error): void;
  /** When the request times out, on the clock. */
  deadline: number;
  /** The request's attributes, for the timeout's message. */
  attrs: Record<string, string>;
  /** When it was sent, on the clock (the latency histogram). */
  sent: number;
}

/** The upper bounds of the XDB latency histogram's buckets, in ms (a last one, +Inf, is implied). */
export const XDB_LATENCY_BUCKETS_MS: readonly number[] = [
  0.5,
  1,
  2,
  5,
  10,
  25,
  50,
  100,
  250,
  1000,
];

/** Round trips that got a reply, by latency: fixed buckets, so recording one allocates nothing. */
export class LatencyHistogram {
  /** Per bucket of `XDB_LATENCY_BUCKETS_MS` then +Inf, how many fell in it (not cumulative). */
  readonly counts: number[] = new Array(XDB_LATENCY_BUCKETS_MS.length + 1).fill(0);
  /** The latencies' sum, in ms. */
  sum = 0;
  count = 0;

  record(ms: number): void {
    let i = 0;
    while (i < XDB_LATENCY_BUCKETS_MS.length && ms > XDB_LATENCY_BUCKETS_MS[i]) i++;
    this.counts[i]++;
    this.sum += ms;
    this.count++;
  }
}

/** Requests in flight for one section; `handleReply` is put early on the section's chain. */
export class XdbRequests implements XdbClient {
  readonly #options: XdbClientOptions;
  readonly #pending = new Map<string, Pending>();
  /** The round trips answered (a reply or an error reply; timeouts are not latencies). */
  readonly latency = new LatencyHistogram();
  #counter = 0;
  /**
   * One timer for all requests in flight, due at the earliest deadline or earlier: a timer per
   * request (set, then cleared by its reply) cost about 3% of a login's CPU in the benchmark.
   */
  #timer: number | undefined;
  #timerDue = Infinity;
  /** Distinguishes this client's ids from an earlier run of the same section. */
  readonly #prefix = "x" + Math.floor(Math.random() * 0x100000000).toString(36) + "-";
  /** Called once no request is in flight (`settled()`, for a stopping section). */
  #settledWaiters: (() => void)[] = [];

  constructor(options: XdbClientOptions) {
    this.#options = options;
  }

  async get(owner: string, ns: string): Promise<Element | undefined> {
    const reply = await this.#request({ type: "get", to: owner, ns });
    return reply.elements[0];
  }

  /**
   * The stored elements of several namespaces of one owner, in the order asked, with one request
   * (ROUTING.md "xdb", `action="many"`): a login's reads answered by one batch of KV reads. When
   * the request fails (the namespaces are stored by different sections, or storage that does not
   * know the action), each namespace is read alone, so the answer is the same as `get`'s.
   */
  async getMany(owner: string, namespaces: readonly string[]): Promise<(Element | undefined)[]> {
    if (namespaces.length === 1) return [await this.get(owner, namespaces[0])];
    let reply: Element;
    try {
      reply = await this.#request({
        type: "get",
        action: "many",
        to: owner,
        ns: namespaces.join(" "),
      });
    } catch {
      return await Promise.all(namespaces.map((ns) => this.get(owner, ns)));
    }
    const found = new Map<string, Element | undefined>();
    for (const data of reply.elements) {
      if (data.name === "data" && data.attrs.ns !== undefined) {
        found.set(data.attrs.ns, data.elements[0]);
      }
    }
    return await Promise.all(
      namespaces.map((ns) => found.has(ns) ? found.get(ns) : this.get(owner, ns)),
    );
  }

  async set(owner: string, ns: string, data: Element | undefined): Promise<void> {
    await this.#request({ type: "set", to: owner, ns }, data);
  }

  async insert(owner: string, ns: string, item: Element, match?: string): Promise<void> {
    const attrs: Record<string, string> = { type: "set", to: owner, ns, action: "insert" };
    if (match !== undefined) attrs.match = match;
    await this.#request(attrs, item);
  }

  async remove(owner: string, ns: string, match: string): Promise<void> {
    await this.#request({ type: "set", to: owner, ns, action: "remove", match });
  }

  async append(host: string, ns: string, entries: readonly XdbLogEntry[]): Promise<void> {
    await this.#request({ type: "set", to: host, ns, action: "append" }, appendElement(entries));
  }

  async range(owner: string, ns: string, range: XdbRange): Promise<XdbRangeResult> {
    const reply = await this.#request({
      type: "get",
      to: owner,
      ns,
      action: "range",
      ...rangeAttrs(range),
    });
    return rangeResult(reply.elements[0]);
  }

  async trim(owner: string, ns: string, range: XdbRange): Promise<number> {
    const reply = await this.#request({
      type: "set",
      to: owner,
      ns,
      action: "trim",
      ...rangeAttrs(range),
    });
    return Number(reply.elements[0]?.attrs.count ?? 0);
  }

  /** How many requests are in flight. */
  get inFlight(): number {
    return this.#pending.size;
  }

  /** Resolves once no request is in flight: each settles by its reply, an error or a timeout. */
  settled(): Promise<void> {
    if (this.#pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#settledWaiters.push(resolve));
  }

  /** Takes the reply to one of our requests; answers whether it was one. */
  handleReply(packet: Packet): boolean {
    const element = packet.element;
    if (element.name !== "xdb" || packet.kind !== "normal") return false;
    const id = element.attrs.id;
    const pending = id === undefined ? undefined : this.#pending.get(id);
    if (!pending) return false;
    this.#pending.delete(id!);
    this.latency.record(this.#options.clock.now() - pending.sent);
    // The timer stays armed when the last request is answered: the next request's deadline is
    // later, so it needs no timer of its own, and an expiry with nothing in flight arms none.
    // Clearing and setting it again for every request cost about 6% of a cold login's CPU (a
    // Node-style Timeout and its id each time, docs/runtime-notes.md). `cancelAll` clears it.
    if (element.attrs.type === "error") {
      const reason = element.getChildText("error") ?? "the storage refused the request";
      pending.reject(new StanzaError("internal-server-error", `XDB error: ${reason}`));
    } else pending.resolve(element);
    this.#wakeIfSettled();
    return true;
  }

  /** Fails every request in flight (the section is stopping). */
  cancelAll(reason: string): void {
    this.#disarm();
    for (const [id, pending] of this.#pending) {
      pending.reject(new StanzaError("internal-server-error", reason));
      this.#pending.delete(id);
    }
    this.#wakeIfSettled();
  }

  #wakeIfSettled(): void {
    if (this.#pending.size > 0) return;
    for (const resolve of this.#settledWaiters.splice(0)) resolve();
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#options.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerDue = Infinity;
  }

  /** Arms the timer for `deadline` unless it is already due no later. */
  #arm(deadline: number): void {
    if (this.#timer !== undefined && this.#timerDue <= deadline) return;
    if (this.#timer !== undefined) this.#options.clock.clearTimeout(this.#timer);
    this.#timerDue = deadline;
    const clock = this.#options.clock;
    this.#timer = clock.setTimeout(() => this.#expire(), Math.max(deadline - clock.now(), 0));
  }

  /** Rejects the requests whose deadline has passed and arms the timer for the next one. */
  #expire(): void {
    this.#timer = undefined;
    this.#timerDue = Infinity;
    const now = this.#options.clock.now();
    let next = Infinity;
    for (const [id, pending] of this.#pending) {
      if (pending.deadline > now) {
        next = Math.min(next, pending.deadline);
        continue;
      }
      this.#pending.delete(id);
      const { type, to, ns } = pending.attrs;
      const timeoutMs = this.#options.timeoutMs ?? 10_000;
      pending.reject(
        new StanzaError(
          "remote-server-timeout",
          `XDB ${type} for ${to} (${ns}) got no reply in ${timeoutMs} ms`,
        ),
      );
    }
    if (next !== Infinity) this.#arm(next);
    this.#wakeIfSettled();
  }

  #request(attrs: Record<string, string>, child?: Element): Promise<Element> {
    const id = this.#prefix + (++this.#counter).toString(36);
    const element = new Element("xdb", { ...attrs, from: this.#options.from, id });
    if (child) element.append(child);
    const sent = this.#options.clock.now();
    const deadline = sent + (this.#options.timeoutMs ?? 10_000);
    const promise = new Promise<Element>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, deadline, attrs, sent });
    });
    this.#arm(deadline);
    this.#options.deliver(element);
    return promise;
  }
}

/**
 * Several namespaces of one owner in one request when the client can (`XdbRequests.getMany`),
 * else one `get` each: the same answer either way.
 */
export function xdbGetMany(
  xdb: XdbClient,
  owner: string,
  namespaces: readonly string[],
): Promise<(Element | undefined)[]> {
  if (xdb.getMany) return xdb.getMany(owner, namespaces);
  return Promise.all(namespaces.map((ns) => xdb.get(owner, ns)));
}

/**
 * Writes the `match` of an XDB insert or remove (ROUTING.md, "xdb"): the child named `name`
 * whose attributes hold these values, `xdbMatch("item", { jid })` → `item?jid=bob@example.org`.
 * Only what the syntax uses (`%`, `&`, `=`, `?`) is percent-encoded, so JIDs stay readable;
 * `parseMatch()` in `src/modules/xdb/match.ts` reads it back.
 */
export function xdbMatch(name: string, attrs: Readonly<Record<string, string>> = {}): string {
  const conditions = Object.entries(attrs).map(([attr, value]) =>
    `${escapeMatch(attr)}=${escapeMatch(value)}`
  );
  const head = escapeMatch(name);
  return conditions.length === 0 ? head : `${head}?${conditions.join("&")}`;
}

function escapeMatch(text: string): string {
  return text.replace(/[%&=?]/g, (ch) => "%" + ch.charCodeAt(0).toString(16).toUpperCase());
}

/** The attributes of a keyed-log request that carry its range (ROUTING.md, "xdb"). */
export function rangeAttrs(range: XdbRange): Record<string, string> {
  const attrs: Record<string, string> = {};
  if (range.start !== undefined) attrs.start = range.start;
  if (range.end !== undefined) attrs.end = range.end;
  if (range.match !== undefined) attrs.match = range.match;
  if (range.reverse) attrs.reverse = "true";
  if (range.count) attrs.count = "true";
  if (range.limit !== undefined) attrs.limit = String(range.limit);
  return attrs;
}

/** Reads the `<range count?><item key>…</item></range>` of a range reply. */
export function rangeResult(range: Element | undefined): XdbRangeResult {
  const items = (range?.getChildren("item") ?? []).map((entry) => ({
    key: entry.attrs.key ?? "",
    item: entry.elements[0],
  })).filter(({ item }) => item !== undefined);
  const count = range?.attrs.count;
  return count === undefined ? { items } : { items, count: Number(count) };
}

/** Appends as they travel: `<append><item owner="…" key="…">item</item>…</append>`. */
export function appendElement(entries: readonly XdbLogEntry[]): Element {
  const append = new Element("append", {});
  for (const { owner, key, item } of entries) {
    append.append(new Element("item", { owner, key }, [item]));
  }
  return append;
}

/** Reads an `<append>` back; throws for an entry without owner, key or item. */
export function appendEntries(append: Element): XdbLogEntry[] {
  return append.getChildren("item").map((entry) => {
    const { owner, key } = entry.attrs;
    const item = entry.elements[0];
    if (!owner || !key || !item) throw new Error("XDB append item needs owner, key and an item");
    return { owner, key, item };
  });
}

/** A range read as it travels: `<range count?><item key="…">item</item>…</range>`. */
export function rangeElement(result: XdbRangeResult): Element {
  const range = new Element("range", {});
  if (result.count !== undefined) range.attrs.count = String(result.count);
  for (const { key, item } of result.items) range.append(new Element("item", { key }, [item]));
  return range;
}
