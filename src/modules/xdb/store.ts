/**
 * XDB on a KV store (docs/architecture.md "Storage: XDB on Deno KV"; the KV limits in docs/runtime-notes.md "Deno KV"): one stored element per owner and
 * namespace, kept as a "shell" key plus one key per child item, written in group commits.
 *
 * Layout, under the prefix `["xdb", host, user, ns]` (user is "" for a bare host owner):
 * - `[…, "doc"]`: the root element's shell `{ v, name, attrs, ns?, next }`; `next` is the
 *   position the next appended item gets. Every write rewrites the shell, so its versionstamp
 *   changes with every change of the element: checks on it guard read-modify-write, and a read
 *   that spans several list batches re-reads it to detect a change in between.
 * - `[…, "item", position, chunk]`: one child (element or text) as compact JSON (codec.ts).
 *   Positions grow as items are appended; replacing an item keeps its position, so order is
 *   append order. An item longer than one KV value is split over chunks 0, 1, 2, …
 *
 * Writes issued while another commit is in flight (or in the same tick) are merged into one
 * `atomic()` (group commit): several operations on one element are applied in order to one
 * in-memory copy, and the net change is committed with one versionstamp check per element.
 * A promise resolves only after its commit, so an acknowledged write is durable. When the
 * commit of a merged batch throws, its operations are retried one by one so that only the
 * faulty one fails; a failed check (someone else wrote) reloads and retries.
 *
 * Not atomic: a single write whose net change exceeds one atomic (1000 mutations, 800 KB: e.g.
 * a set of thousands of items, or one item of more than about 650 KB) is committed in several
 * atomics. Inside this process no read or write of that element runs in between; another
 * process may see, or interleave with, the partial state, and a crash in the middle leaves a
 * mix of old and new items.
 *
 * Keyed logs (an archive such as XEP-0313's) sit beside the elements, under
 * `["xdb-log", host, user, ns, key]`: one KV value per item, keys chosen by the writer and
 * sorted as strings, so that a range of keys (by time, when keys start with the time) is one
 * `list()`. Appends are committed in group commits of their own, without checks (a key is
 * written once); a range read or a trim waits for the appends to the same log queued before it.
 */
import type { KvEntry, KvKey, KvStore } from "../../adapters/types.ts";
import type { XdbLogEntry, XdbRange, XdbRangeResult } from "../../server/module_api.ts";
import type { Element, XmlNode } from "../../xml/element.ts";
import { Element as XmlElement } from "../../xml/element.ts";
import { MAX_GET_MANY } from "../../adapters/kv_limits.ts";
import { CHUNK_UNITS, decodeNode, encodeNode, headOf, splitChunks, storedSize } from "./codec.ts";
import { matches, parseMatch, type XdbMatch } from "./match.ts";

export interface XdbStoreOptions {
  /** Most operations merged into one commit (default 500). */
  maxBatch?: number;
  /** Retries after a failed versionstamp check before giving up (default 20). */
  maxRetries?: number;
  /** Largest item accepted, in UTF-16 units of its stored JSON (default 4 Mi). */
  maxItemUnits?: number;
}

/** The root element without its children, as stored under `[…, "doc"]`. */
interface Shell {
  /** Format version of the stored shell. */
  v: 1;
  name: string;
  attrs: Record<string, string>;
  /** The resolved namespace, kept when the root has no `xmlns` attribute to carry it. */
  ns?: string;
  next: number;
}

/** An owner and namespace: one stored element. */
interface Doc {
  id: string;
  ns: string;
  prefix: KvKey;
}

type WriteOp =
  & { doc: Doc; resolve(changed: boolean): void; reject(error: unknown): void }
  & (
    | { kind: "set"; shell: Omit<Shell, "next"> | undefined; items: string[] }
    | { kind: "insert"; item: string; match: XdbMatch | undefined }
    | { kind: "remove"; match: XdbMatch }
  );

/** One element while a batch works on it. */
interface DocState {
  doc: Doc;
  versionstamp: string | null;
  /** True when every item was loaded (not only the shell). */
  full: boolean;
  shell: Shell | undefined;
  /** Position → stored JSON, in position order. */
  items: Map<number, string>;
  /** What the store held when loaded: position → JSON and its chunk count. */
  original: Map<number, { json: string; chunks: number }>;
  dirty: boolean;
}

type Mutation = { key: KvKey; value?: unknown; size: number };

/** One append waiting for its group commit. */
interface LogWrite {
  key: KvKey;
  json: string;
  size: number;
  resolve(): void;
  reject(error: unknown): void;
}

export type { XdbRange, XdbRangeResult };

/** Longest key of a keyed log item accepted, in characters. */
const MAX_LOG_KEY = 512;

/** Deno KV's limits per atomic, with room to spare for the size estimates. */
const MAX_MUTATIONS = 900;
const MAX_CHECKS = 90;
const MAX_BYTES = 700_000;
/** Deno KV lists in batches of 100: a longer read may span snapshots and is verified. */
const LIST_BATCH = 100;

export class XdbStore {
  readonly #kv: KvStore;
  readonly #maxBatch: number;
  readonly #maxRetries: number;
  readonly #maxItemUnits: number;
  #queue: WriteOp[] = [];
  #draining: Promise<void> | undefined;
  /** Per element, the last queued write: reads wait for it (read-your-writes in-process). */
  readonly #tails = new Map<string, Promise<unknown>>();
  #closed = false;
  #logQueue: LogWrite[] = [];
  #logDraining: Promise<void> | undefined;

  constructor(kv: KvStore, options: XdbStoreOptions = {}) {
    this.#kv = kv;
    this.#maxBatch = options.maxBatch ?? 500;
    this.#maxRetries = options.maxRetries ?? 20;
    this.#maxItemUnits = options.maxItemUnits ?? 4 * 1024 * 1024;
  }

  /** The stored element, or undefined when nothing is stored for owner+ns. */
  async get(owner: string, ns: string): Promise<Element | undefined> {
    const doc = docOf(owner, ns);
    const tail = this.#tails.get(doc.id);
    if (tail) await tail.catch(() => {});
    return elementOf(await this.#load(doc, true));
  }

  /**
   * The stored elements of several namespaces of one owner, in the order asked (a login's reads:
   * ROUTING.md "xdb", `action="many"`), with as few KV reads as the data allows. A KV read costs
   * about the same whether it lists a few entries or gets one key, and a `getMany` costs about
   * one read per key (docs/runtime-notes.md "Deno KV"), so the owner's whole XDB data is listed
   * at once (`["xdb", host, user]`: a few entries for most users, the logs are elsewhere) when it
   * fits one list batch, one snapshot. Owners with more fall back to the shells of the namespaces
   * asked in one `getMany` per ten keys, then a `list` only for an element with child items.
   */
  async getMany(owner: string, namespaces: readonly string[]): Promise<(Element | undefined)[]> {
    const docs = namespaces.map((ns) => docOf(owner, ns));
    for (const doc of docs) {
      const tail = this.#tails.get(doc.id);
      if (tail) await tail.catch(() => {});
    }
    const ownerPrefix = docs[0]?.prefix.slice(0, 3) ?? [];
    const all: KvEntry<unknown>[] = [];
    if (docs.length > 1) {
      for await (const entry of this.#kv.list({ prefix: ownerPrefix }, { limit: LIST_BATCH })) {
        all.push(entry);
      }
    }
    if (docs.length > 1 && all.length < LIST_BATCH) {
      const byNs = new Map<string, KvEntry<unknown>[]>();
      for (const entry of all) {
        const ns = entry.key[3] as string;
        const list = byNs.get(ns);
        if (list) list.push(entry);
        else byNs.set(ns, [entry]);
      }
      return docs.map((doc) => {
        const entries = byNs.get(doc.ns);
        // The shell sorts before the items ("doc" < "item"); items without a shell are leftovers.
        if (!entries || entries[0].key[4] !== "doc") return undefined;
        return elementOf(stateOf(doc, entries[0] as KvEntry<Shell>, true, entries.slice(1)));
      });
    }
    const shells: KvEntry<Shell>[] = [];
    for (let at = 0; at < docs.length; at += MAX_GET_MANY) {
      const keys = docs.slice(at, at + MAX_GET_MANY).map((doc) => [...doc.prefix, "doc"]);
      shells.push(...await this.#kv.getMany<Shell>(keys));
    }
    return await Promise.all(docs.map((doc, i) => {
      const shell = shells[i];
      if (!shell.value) return undefined;
      // No item was ever appended: the shell is the whole element, read in one snapshot.
      if (shell.value.next === 0) return elementOf(stateOf(doc, shell, true, []));
      return this.#load(doc, true).then(elementOf);
    }));
  }

  /** Replaces the stored element; undefined removes it. Resolves once committed. */
  async set(owner: string, ns: string, element: Element | undefined): Promise<void> {
    let shell: Omit<Shell, "next"> | undefined;
    let items: string[] = [];
    if (element) {
      shell = { v: 1, name: element.name, attrs: { ...element.attrs } };
      const resolved = element.ns;
      if (element.attrs.xmlns === undefined && resolved !== "") shell.ns = resolved;
      if (storedSize(JSON.stringify(shell)) > 60_000) {
        throw new Error(`XDB element ${element.name} has attributes too large to store (60 KB)`);
      }
      items = rootItems(element).map((node) => this.#encodeItem(node));
    }
    await this.#enqueue(docOf(owner, ns), { kind: "set", shell, items });
  }

  /**
   * Replaces the first child selected by `match` (match.ts), or appends `item` when no match is
   * given or nothing matches. Inserting into nothing creates `<query xmlns="{ns}">` around it.
   */
  async insert(owner: string, ns: string, item: Element, match?: string): Promise<void> {
    const parsed = match === undefined ? undefined : parseMatch(match);
    await this.#enqueue(docOf(owner, ns), {
      kind: "insert",
      item: this.#encodeItem(item),
      match: parsed,
    });
  }

  /** Removes the first child selected by `match`; resolves true when one was removed. */
  async remove(owner: string, ns: string, match: string): Promise<boolean> {
    return await this.#enqueue(docOf(owner, ns), { kind: "remove", match: parseMatch(match) });
  }

  /**
   * Stores each entry's item under its key in its owner's keyed log of `ns` (replacing an item
   * of the same key). Resolves once all are committed; refuses the whole call, before writing
   * anything, when an item does not fit one KV value or a key is empty.
   */
  append(ns: string, entries: readonly XdbLogEntry[]): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("XDB store is closed"));
    const writes: Omit<LogWrite, "resolve" | "reject">[] = [];
    const ids = new Set<string>();
    try {
      for (const { owner, key, item } of entries) {
        const json = encodeNode(item);
        if (json.length > CHUNK_UNITS) {
          throw new Error(
            `XDB log item <${item.name}> is ${json.length} characters, over one KV value`,
          );
        }
        const prefix = logPrefix(owner, ns);
        const logKey = [...prefix, checkLogKey(key)];
        ids.add(prefix.join("\u0000"));
        writes.push({ key: logKey, json, size: keySize(logKey) + storedSize(json) });
      }
    } catch (error) {
      return Promise.reject(error);
    }
    if (writes.length === 0) return Promise.resolve();
    const promise = new Promise<void>((resolve, reject) => {
      let left = writes.length;
      let failed = false;
      const done = () => --left === 0 && !failed && resolve();
      const fail = (error: unknown) => {
        if (!failed) reject(error);
        failed = true;
      };
      for (const write of writes) this.#logQueue.push({ ...write, resolve: done, reject: fail });
    });
    for (const id of ids) {
      this.#tails.set(id, promise);
      const forget = () => {
        if (this.#tails.get(id) === promise) this.#tails.delete(id);
      };
      promise.then(forget, forget);
    }
    this.#logDraining ??= this.#drainLog();
    return promise;
  }

  /** Reads items of owner+ns's keyed log (see XdbRange), after the appends queued before. */
  async range(owner: string, ns: string, range: XdbRange = {}): Promise<XdbRangeResult> {
    const prefix = logPrefix(owner, ns);
    await this.#logTail(prefix);
    const match = range.match === undefined ? undefined : parseMatch(range.match);
    const limit = range.limit ?? Infinity;
    const items: XdbRangeResult["items"] = [];
    let count = 0;
    for await (
      const entry of this.#kv.list<string>(logSelector(prefix, range), { reverse: range.reverse })
    ) {
      const json = entry.value as string;
      if (match) {
        const head = headOf(json);
        if (!head || !matches(match, head.name, head.attrs)) continue;
      }
      count++;
      if (items.length < limit) {
        items.push({ key: entry.key[4] as string, item: decodeNode(json) as Element });
      } else if (!range.count) break;
    }
    return range.count ? { items, count } : { items };
  }

  /** Deletes the items of owner+ns's keyed log in the range; resolves to how many. */
  async trim(owner: string, ns: string, range: XdbRange = {}): Promise<number> {
    const prefix = logPrefix(owner, ns);
    await this.#logTail(prefix);
    const { items } = await this.range(owner, ns, range);
    for (let at = 0; at < items.length; at += MAX_MUTATIONS) {
      const atomic = this.#kv.atomic();
      for (const { key } of items.slice(at, at + MAX_MUTATIONS)) atomic.delete([...prefix, key]);
      await atomic.commit();
    }
    return items.length;
  }

  async #logTail(prefix: KvKey): Promise<void> {
    const tail = this.#tails.get(prefix.join("\u0000"));
    if (tail) await tail.catch(() => {});
  }

  /** Group commits of appends: whatever was queued meanwhile goes into the next atomic. */
  async #drainLog(): Promise<void> {
    await Promise.resolve();
    try {
      while (this.#logQueue.length > 0) {
        let count = 0;
        let bytes = 0;
        while (count < this.#logQueue.length && count < MAX_MUTATIONS) {
          const size = this.#logQueue[count].size;
          if (count > 0 && bytes + size > MAX_BYTES) break;
          bytes += size;
          count++;
        }
        const batch = this.#logQueue.splice(0, count);
        try {
          await this.#commitLog(batch);
          for (const write of batch) write.resolve();
        } catch (error) {
          if (batch.length === 1) batch[0].reject(error);
          else {
            // One faulty append must not fail the others: commit each on its own.
            for (const write of batch) {
              await this.#commitLog([write]).then(() => write.resolve(), write.reject);
            }
          }
        }
      }
    } finally {
      this.#logDraining = undefined;
    }
  }

  async #commitLog(batch: LogWrite[]): Promise<void> {
    const atomic = this.#kv.atomic();
    for (const write of batch) atomic.set(write.key, write.json);
    if (!(await atomic.commit()).ok) throw new Error("XDB log append was refused by the store");
  }

  /** Resolves once every queued write has been committed (or failed). */
  async flush(): Promise<void> {
    while (this.#draining || this.#logDraining) await (this.#draining ?? this.#logDraining);
  }

  /** Flushes, then closes the KV store; later calls fail. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
    this.#kv.close();
  }

  #encodeItem(node: XmlNode): string {
    const json = encodeNode(node);
    if (json.length > this.#maxItemUnits) {
      const name = typeof node === "string" ? "text" : `<${node.name}>`;
      throw new Error(
        `XDB item ${name} is ${json.length} characters stored, over the limit of ` +
          `${this.#maxItemUnits}`,
      );
    }
    return json;
  }

  #enqueue(
    doc: Doc,
    op: Omit<WriteOp, "doc" | "resolve" | "reject"> & Record<string, unknown>,
  ): Promise<boolean> {
    if (this.#closed) return Promise.reject(new Error("XDB store is closed"));
    const promise = new Promise<boolean>((resolve, reject) => {
      this.#queue.push({ ...op, doc, resolve, reject } as WriteOp);
    });
    this.#tails.set(doc.id, promise);
    const forget = () => {
      if (this.#tails.get(doc.id) === promise) this.#tails.delete(doc.id);
    };
    promise.then(forget, forget);
    this.#draining ??= this.#drain();
    return promise;
  }

  /** Commits queued writes batch after batch; writes queued meanwhile join the next batch. */
  async #drain(): Promise<void> {
    // Let the rest of this tick queue its writes first.
    await Promise.resolve();
    try {
      while (this.#queue.length > 0) {
        const batch = this.#take();
        try {
          await this.#run(batch);
        } catch (error) {
          for (const op of batch) op.reject(error);
        }
      }
    } finally {
      this.#draining = undefined;
    }
  }

  /** The next batch: queue order, at most maxBatch operations on at most MAX_CHECKS elements. */
  #take(): WriteOp[] {
    const docs = new Set<string>();
    let count = 0;
    while (count < this.#queue.length && count < this.#maxBatch) {
      const id = this.#queue[count].doc.id;
      if (!docs.has(id)) {
        if (docs.size === MAX_CHECKS) break;
        docs.add(id);
      }
      count++;
    }
    return this.#queue.splice(0, count);
  }

  async #run(ops: WriteOp[]): Promise<void> {
    for (let attempt = 0; attempt <= this.#maxRetries; attempt++) {
      const states = await this.#loadAll(ops);
      const results = ops.map((op) => apply(states.get(op.doc.id)!, op));
      const plan = planOf([...states.values()]);
      if (!fits(plan.mutations, plan.checks.length)) {
        if (ops.length > 1) {
          // Too much for one atomic: halve the batch (each half reloads what it needs).
          const half = Math.ceil(ops.length / 2);
          await this.#settle(ops.slice(0, half));
          await this.#settle(ops.slice(half));
          return;
        }
        if (await this.#commitInParts(plan)) return ops[0].resolve(results[0]);
        continue;
      }
      let ok: boolean;
      try {
        ok = await this.#commit(plan.checks, plan.mutations);
      } catch (error) {
        if (ops.length === 1) return ops[0].reject(error);
        // One faulty operation must not fail the others: try each on its own.
        for (const op of ops) await this.#settle([op]);
        return;
      }
      if (ok) {
        ops.forEach((op, i) => op.resolve(results[i]));
        return;
      }
    }
    const error = new Error(
      `XDB write gave up after ${this.#maxRetries} conflicting concurrent writes`,
    );
    for (const op of ops) op.reject(error);
  }

  /** Runs a batch, turning anything it throws into the rejection of its operations. */
  async #settle(ops: WriteOp[]): Promise<void> {
    try {
      await this.#run(ops);
    } catch (error) {
      for (const op of ops) op.reject(error);
    }
  }

  async #commit(checks: Check[], mutations: Mutation[]): Promise<boolean> {
    const atomic = this.#kv.atomic();
    for (const check of checks) atomic.check(check.key, check.versionstamp);
    for (const mutation of mutations) {
      if (mutation.value === undefined) atomic.delete(mutation.key);
      else atomic.set(mutation.key, mutation.value);
    }
    return (await atomic.commit()).ok;
  }

  /**
   * One operation too large for one atomic: the check goes with the first part, the rest in as
   * many atomics as needed (not atomic as a whole: see the top of this file).
   */
  async #commitInParts(plan: Plan): Promise<boolean> {
    let at = 0;
    let first = true;
    while (at < plan.mutations.length || first) {
      const part: Mutation[] = [];
      let bytes = 0;
      for (; at < plan.mutations.length; at++) {
        const mutation = plan.mutations[at];
        if (part.length >= MAX_MUTATIONS || bytes + mutation.size > MAX_BYTES) break;
        part.push(mutation);
        bytes += mutation.size;
      }
      const ok = await this.#commit(first ? plan.checks : [], part);
      if (!ok) return false;
      first = false;
    }
    return true;
  }

  async #loadAll(ops: WriteOp[]): Promise<Map<string, DocState>> {
    const needs = new Map<string, { doc: Doc; full: boolean }>();
    for (const op of ops) {
      const full = op.kind !== "insert" || op.match !== undefined;
      const need = needs.get(op.doc.id);
      if (need) need.full ||= full;
      else needs.set(op.doc.id, { doc: op.doc, full });
    }
    const states = await Promise.all(
      [...needs.values()].map(({ doc, full }) => this.#load(doc, full)),
    );
    return new Map(states.map((state) => [state.doc.id, state]));
  }

  /** Reads one element's shell, and with `full` its items, as one consistent state. */
  async #load(doc: Doc, full: boolean): Promise<DocState> {
    const shellKey = [...doc.prefix, "doc"];
    if (!full) {
      const entry = await this.#kv.get<Shell>(shellKey);
      return stateOf(doc, entry, false, []);
    }
    for (let attempt = 0; attempt <= this.#maxRetries; attempt++) {
      const entries: KvEntry<unknown>[] = [];
      for await (const entry of this.#kv.list({ prefix: doc.prefix })) entries.push(entry);
      const shell = entries[0]?.key[4] === "doc" ? entries[0] as KvEntry<Shell> : undefined;
      if (entries.length > LIST_BATCH) {
        // The shell sorts first; if it is unchanged now, nothing was written while listing.
        const again = await this.#kv.get<Shell>(shellKey);
        if (again.versionstamp !== (shell?.versionstamp ?? null)) continue;
      }
      const empty: KvEntry<Shell> = { key: shellKey, value: null, versionstamp: null };
      return stateOf(doc, shell ?? empty, true, shell ? entries.slice(1) : []);
    }
    throw new Error(`XDB read of ${doc.id} kept changing while being read`);
  }
}

interface Check {
  key: KvKey;
  versionstamp: string | null;
}

interface Plan {
  checks: Check[];
  mutations: Mutation[];
}

/** The element a loaded state holds, undefined when nothing is stored. */
function elementOf(state: DocState): Element | undefined {
  if (!state.shell) return undefined;
  const root = new XmlElement(state.shell.name, { ...state.shell.attrs }, [], state.shell.ns);
  for (const json of state.items.values()) {
    const node = decodeNode(json);
    if (typeof node === "string") root.t(node);
    else root.append(node);
  }
  return root;
}

function stateOf(
  doc: Doc,
  shell: KvEntry<Shell>,
  full: boolean,
  itemEntries: KvEntry<unknown>[],
): DocState {
  const original = new Map<number, { json: string; chunks: number }>();
  for (const entry of itemEntries) {
    const position = entry.key[5] as number;
    const seen = original.get(position);
    if (seen) {
      seen.json += entry.value as string;
      seen.chunks++;
    } else original.set(position, { json: entry.value as string, chunks: 1 });
  }
  const items = new Map<number, string>();
  for (const [position, { json }] of original) items.set(position, json);
  return {
    doc,
    versionstamp: shell.versionstamp,
    full,
    shell: shell.value ?? undefined,
    items,
    original,
    dirty: false,
  };
}

/** Applies one operation to an element's working state; answers whether it changed anything. */
function apply(state: DocState, op: WriteOp): boolean {
  switch (op.kind) {
    case "set": {
      state.items.clear();
      if (!op.shell) {
        const existed = state.shell !== undefined;
        state.shell = undefined;
        state.dirty = true;
        return existed;
      }
      state.shell = { ...op.shell, next: op.items.length };
      op.items.forEach((json, position) => state.items.set(position, json));
      state.dirty = true;
      return true;
    }
    case "insert": {
      const position = op.match ? find(state, op.match) : undefined;
      if (position !== undefined) {
        // Map.set on an existing key keeps its place: a replaced item keeps its position.
        state.items.set(position, op.item);
      } else {
        state.shell ??= { v: 1, name: "query", attrs: { xmlns: op.doc.ns }, next: 0 };
        state.items.set(state.shell.next, op.item);
        state.shell = { ...state.shell, next: state.shell.next + 1 };
      }
      state.dirty = true;
      return true;
    }
    case "remove": {
      const position = find(state, op.match);
      if (position === undefined) return false;
      state.items.delete(position);
      state.dirty = true;
      return true;
    }
  }
}

function find(state: DocState, match: XdbMatch): number | undefined {
  for (const [position, json] of state.items) {
    const head = headOf(json);
    if (head && matches(match, head.name, head.attrs)) return position;
  }
  return undefined;
}

/** The net change of every element a batch touched, with the check that guards each. */
function planOf(states: DocState[]): Plan {
  const checks: Check[] = [];
  const mutations: Mutation[] = [];
  for (const state of states) {
    if (!state.dirty) continue;
    const shellKey = [...state.doc.prefix, "doc"];
    checks.push({ key: shellKey, versionstamp: state.versionstamp });
    const keyBytes = keySize(shellKey) + 32;
    // The shell goes first when written and last when deleted: an element committed in parts
    // (see the top) then never leaves items without a shell behind.
    if (state.shell) {
      mutations.push({
        key: shellKey,
        value: state.shell,
        size: keyBytes + storedSize(JSON.stringify(state.shell)),
      });
    }
    for (const [position, json] of state.items) {
      const before = state.original.get(position);
      if (before?.json === json) continue;
      const chunks = splitChunks(json);
      chunks.forEach((chunk, index) => {
        mutations.push({
          key: [...state.doc.prefix, "item", position, index],
          value: chunk,
          size: keyBytes + storedSize(chunk),
        });
      });
      for (let index = chunks.length; index < (before?.chunks ?? 0); index++) {
        mutations.push({ key: [...state.doc.prefix, "item", position, index], size: keyBytes });
      }
    }
    for (const [position, before] of state.original) {
      if (state.items.has(position)) continue;
      for (let index = 0; index < before.chunks; index++) {
        mutations.push({ key: [...state.doc.prefix, "item", position, index], size: keyBytes });
      }
    }
    if (!state.shell && state.versionstamp !== null) {
      mutations.push({ key: shellKey, size: keyBytes });
    }
  }
  return { checks, mutations };
}

function fits(mutations: Mutation[], checks: number): boolean {
  if (mutations.length > MAX_MUTATIONS || checks > MAX_CHECKS) return false;
  let bytes = 0;
  for (const mutation of mutations) bytes += mutation.size;
  return bytes <= MAX_BYTES;
}

/** An upper bound of a key's encoded size (UTF-8 strings, 9-byte numbers). */
function keySize(key: KvKey): number {
  let size = 0;
  for (const part of key) size += typeof part === "string" ? 3 * part.length + 2 : 9;
  return size;
}

/**
 * The children stored as items. Whitespace-only text between child elements (indentation of a
 * pretty-printed document) is dropped: it would cost a key each and mean nothing.
 */
function rootItems(element: Element): XmlNode[] {
  const hasElements = element.children.some((child) => typeof child !== "string");
  return element.children.filter((child) =>
    typeof child !== "string" || !hasElements || child.trim() !== ""
  );
}

/** The key prefix of owner+ns's keyed log. */
function logPrefix(owner: string, ns: string): KvKey {
  const { prefix } = docOf(owner, ns);
  return ["xdb-log", prefix[1], prefix[2], prefix[3]];
}

function checkLogKey(key: string): string {
  if (key === "" || key.length > MAX_LOG_KEY) {
    throw new Error(`XDB log key must have 1 to ${MAX_LOG_KEY} characters`);
  }
  return key;
}

/** The list() selector of a range: the log's prefix, narrowed by start and end. */
function logSelector(prefix: KvKey, range: XdbRange) {
  const { start, end } = range;
  if (start !== undefined && end !== undefined) {
    return { start: [...prefix, start], end: [...prefix, end < start ? start : end] };
  }
  if (start !== undefined) return { prefix, start: [...prefix, start] };
  if (end !== undefined) return { prefix, end: [...prefix, end] };
  return { prefix };
}

/** Splits an owner (`user@host`, `host`; a resource is ignored) into its key prefix. */
function docOf(owner: string, ns: string): Doc {
  const slash = owner.indexOf("/");
  const bare = slash < 0 ? owner : owner.slice(0, slash);
  const at = bare.indexOf("@");
  const user = at < 0 ? "" : bare.slice(0, at);
  const host = at < 0 ? bare : bare.slice(at + 1);
  if (host === "") throw new Error(`XDB owner "${owner}" has no host`);
  if (ns === "") throw new Error(`XDB request for ${owner} has no namespace`);
  const prefix = ["xdb", host, user, ns] as const;
  return { id: prefix.join("\u0000"), ns, prefix };
}
