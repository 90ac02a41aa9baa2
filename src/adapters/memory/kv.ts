/**
 * An in-memory KvStore with Deno KV's semantics (ordering, versionstamps, list selectors, atomic
 * checks and limits), for unit tests; the shared conformance suite holds it to Deno KV's behavior.
 */

import { serialize } from "node:v8";
import type {
  KvAdapter,
  KvAtomic,
  KvEntry,
  KvKey,
  KvListOptions,
  KvListSelector,
  KvStore,
} from "../types.ts";
import {
  checkAtomic,
  checkGetMany,
  checkReadKey,
  checkTotal,
  checkValue,
  checkWriteKey,
} from "../kv_limits.ts";
import { bytesToBinaryString, copyKey, encodeKey } from "../kv_key.ts";

export interface Row {
  /** The encoded key as a binary string: the sort key. */
  id: string;
  key: KvKey;
  value: unknown;
  versionstamp: string;
}

/** The data behind one store: what handles on the same path share. */
export interface KvData {
  rows: Row[];
  version: bigint;
}

type Mutation =
  | { type: "set"; key: KvKey; value: unknown; size: number }
  | { type: "delete"; key: KvKey };

/** Deno KV answers a closed store with a BadResource error; so does this one. */
class BadResourceError extends Error {
  override name = "BadResource";
}

/** The in-memory store: rows in a sorted array, found by binary search. */
export class MemoryKvStore implements KvStore {
  #data: KvData;
  #closed = false;

  /** Handles opened on one path share `data`, as handles on one Deno KV file share the file. */
  constructor(data: KvData = { rows: [], version: 0n }) {
    this.#data = data;
  }

  get<T = unknown>(key: KvKey): Promise<KvEntry<T>> {
    return Promise.resolve().then(() => {
      this.#assertOpen();
      return this.#read<T>(key);
    });
  }

  getMany<T = unknown>(keys: KvKey[]): Promise<KvEntry<T>[]> {
    return Promise.resolve().then(() => {
      this.#assertOpen();
      checkGetMany(keys.length);
      return keys.map((key) => this.#read<T>(key));
    });
  }

  /**
   * Lists a snapshot taken when iteration starts (Deno KV reads in batches of 100, each its own
   * snapshot; for tests one snapshot is the predictable choice).
   */
  list<T = unknown>(
    selector: KvListSelector,
    options: KvListOptions = {},
  ): AsyncIterable<KvEntry<T>> {
    // deno-lint-ignore no-this-alias
    const store = this;
    return {
      async *[Symbol.asyncIterator]() {
        await Promise.resolve();
        store.#assertOpen();
        const rows = store.#range(selector, options);
        for (const row of rows) yield store.#entry<T>(row);
      },
    };
  }

  atomic(): KvAtomic {
    return new MemoryKvAtomic((checks, mutations) => this.#commit(checks, mutations));
  }

  close(): void {
    this.#closed = true;
  }

  #assertOpen(): void {
    if (this.#closed) throw new BadResourceError("Bad resource ID");
  }

  #read<T>(key: KvKey): KvEntry<T> {
    const id = readId(key);
    const index = this.#find(id);
    const row = this.#data.rows[index];
    if (row?.id === id) return this.#entry<T>(row);
    return { key: copyKey(key), value: null, versionstamp: null };
  }

  #entry<T>(row: Row): KvEntry<T> {
    // A fresh copy on every read, as Deno KV deserializes on every read.
    return {
      key: copyKey(row.key),
      value: structuredClone(row.value) as T,
      versionstamp: row.versionstamp,
    };
  }

  /** The index of the first row whose id is not less than `id`. */
  #find(id: string): number {
    let low = 0;
    let high = this.#data.rows.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.#data.rows[middle].id < id) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  #range(selector: KvListSelector, options: KvListOptions): Row[] {
    const limit = options.limit;
    if (limit !== undefined && (!Number.isInteger(limit) || limit <= 0)) {
      throw new Error(`Limit must be a positive integer: received ${limit}`);
    }
    let start: string;
    let end: string;
    if (selector.prefix) {
      if (selector.start && selector.end) {
        throw new TypeError(
          "Selector can not specify both 'start' and 'end' key when specifying 'prefix'",
        );
      }
      const prefix = readId(selector.prefix);
      start = prefix + "\x00";
      end = prefix + "\xff";
      if (selector.start) {
        start = readId(selector.start);
        if (!start.startsWith(prefix)) {
          throw new TypeError("Start key is not in the keyspace defined by prefix");
        }
      }
      if (selector.end) {
        end = readId(selector.end);
        if (!end.startsWith(prefix)) {
          throw new TypeError("End key is not in the keyspace defined by prefix");
        }
      }
    } else if (selector.start && selector.end) {
      start = readId(selector.start);
      end = readId(selector.end);
      if (start > end) throw new TypeError("Start key is greater than end key");
    } else {
      throw new TypeError(
        "Selector must specify either 'prefix' or both 'start' and 'end' key",
      );
    }
    let rows = this.#data.rows.slice(this.#find(start), this.#find(end));
    if (options.reverse) rows.reverse();
    if (limit !== undefined) rows = rows.slice(0, limit);
    return rows;
  }

  #commit(
    checks: { key: KvKey; versionstamp: string | null }[],
    mutations: Mutation[],
  ): { ok: boolean; versionstamp?: string } {
    this.#assertOpen();
    checkAtomic(mutations.length, checks.length);
    let total = 0;
    const checkIds = checks.map((check) => {
      if (check.versionstamp !== null && !/^[0-9a-f]{20}$/.test(check.versionstamp)) {
        throw new TypeError("Invalid check");
      }
      const id = readId(check.key);
      total += id.length;
      return id;
    });
    const writes = mutations.map((mutation) => {
      if (mutation.key.length === 0) throw new TypeError("key cannot be empty");
      const id = bytesToBinaryString(encodeKey(mutation.key));
      checkWriteKey(id.length);
      total += id.length;
      if (mutation.type === "set") {
        checkValue(mutation.size);
        total += mutation.size;
      }
      return { id, mutation };
    });
    checkTotal(total);
    for (let i = 0; i < checks.length; i++) {
      const row = this.#data.rows[this.#find(checkIds[i])];
      const current = row?.id === checkIds[i] ? row.versionstamp : null;
      if (current !== checks[i].versionstamp) return { ok: false };
    }
    this.#data.version++;
    // Deno KV's versionstamps: a 64-bit commit version and a 16-bit batch index, in hex.
    const versionstamp = this.#data.version.toString(16).padStart(16, "0") + "0000";
    for (const { id, mutation } of writes) {
      const index = this.#find(id);
      const exists = this.#data.rows[index]?.id === id;
      if (mutation.type === "delete") {
        if (exists) this.#data.rows.splice(index, 1);
        continue;
      }
      const row = { id, key: copyKey(mutation.key), value: mutation.value, versionstamp };
      if (exists) this.#data.rows[index] = row;
      else this.#data.rows.splice(index, 0, row);
    }
    return { ok: true, versionstamp };
  }
}

/** Collects checks and mutations; values are copied when given, as Deno KV serializes them. */
class MemoryKvAtomic implements KvAtomic {
  #checks: { key: KvKey; versionstamp: string | null }[] = [];
  #mutations: Mutation[] = [];
  #apply: (
    checks: { key: KvKey; versionstamp: string | null }[],
    mutations: Mutation[],
  ) => { ok: boolean };

  constructor(
    apply: (
      checks: { key: KvKey; versionstamp: string | null }[],
      mutations: Mutation[],
    ) => { ok: boolean },
  ) {
    this.#apply = apply;
  }

  check(key: KvKey, versionstamp: string | null): KvAtomic {
    this.#checks.push({ key: copyKey(key), versionstamp });
    return this;
  }

  set(key: KvKey, value: unknown): KvAtomic {
    // Deno KV stores a Uint8Array as raw bytes and anything else V8-serialized: measure the same.
    const size = value instanceof Uint8Array ? value.byteLength : serialize(value).length;
    this.#mutations.push({ type: "set", key: copyKey(key), value: structuredClone(value), size });
    return this;
  }

  delete(key: KvKey): KvAtomic {
    this.#mutations.push({ type: "delete", key: copyKey(key) });
    return this;
  }

  commit(): Promise<{ ok: boolean }> {
    return Promise.resolve().then(() => this.#apply(this.#checks, this.#mutations));
  }
}

function readId(key: KvKey): string {
  const id = bytesToBinaryString(encodeKey(key));
  checkReadKey(id.length);
  return id;
}

/** Opens in-memory stores; every `open` of one path sees the same data, like a file. */
export class MemoryKvAdapter implements KvAdapter {
  #paths = new Map<string, KvData>();

  open(path: string): Promise<KvStore> {
    // ":memory:" is private to each open, as with Deno KV.
    if (path === ":memory:") return Promise.resolve(new MemoryKvStore());
    let data = this.#paths.get(path);
    if (!data) {
      data = { rows: [], version: 0n };
      this.#paths.set(path, data);
    }
    return Promise.resolve(new MemoryKvStore(data));
  }
}
