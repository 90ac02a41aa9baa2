/**
 * A KvStore on PostgreSQL (npm `postgres`, postgres.js: the only file that imports it), so that
 * several jabberd nodes can share XDB (docs/adapters.md, README "Storage on PostgreSQL").
 *
 * One table holds the key space: `key` is the key in Deno KV's own byte encoding (the tuple layer
 * of `../kv_key.ts`), whose byte order is Deno KV's key order, so `list()` is a range scan
 * on the primary key (PostgreSQL compares `bytea` byte by byte); `value` is the V8 serialization
 * Deno KV stores, so every structured-cloneable value comes back as it went in; `versionstamp`
 * comes from one sequence, taken once per commit. `atomic()` is one SERIALIZABLE transaction that
 * reads its checks, then writes: two nodes that both find a key missing cannot both create it,
 * since PostgreSQL aborts one of them, which is then run again and fails its check. Deno KV's
 * limits and error messages are enforced here too, so a store that works on one works on the other.
 *
 * The schema is migrated at open (`MIGRATIONS`, recorded in `jabberd_schema_version`), under an
 * advisory lock so that nodes starting together apply each migration once. Connections come from
 * the driver's pool: `max` in the URL's query (`?max=20`) or `connections` when opening.
 *
 * The pool runs behind a watchdog (`./pool.ts`, docs/runtime-notes.md "PostgreSQL"): npm
 * `postgres` 3.4.9 can throw from a timer or wedge a connection when the server stops under load,
 * so that error is caught and a query that outlives `queryTimeout` replaces the whole pool.
 */

import postgres from "postgres";
import { deserialize, serialize } from "node:v8";
import type { KvAtomic, KvEntry, KvKey, KvListOptions, KvListSelector, KvStore } from "../types.ts";
import {
  checkAtomic,
  checkGetMany,
  checkReadKey,
  checkTotal,
  checkValue,
  checkWriteKey,
} from "../kv_limits.ts";
import { copyKey, decodeKey, encodeKey } from "../kv_key.ts";
import { GuardedPool } from "./pool.ts";

/**
 * The schema, one migration per version, each a list of statements run in one transaction with
 * the version's row. Append only: a migration, once released, is never edited.
 */
export const MIGRATIONS: readonly (readonly string[])[] = [
  [
    "create table jabberd_kv (key bytea primary key, value bytea not null, versionstamp bigint not null)",
    "create sequence jabberd_kv_version",
  ],
];

/** The advisory lock held while migrating ("jabb" in ASCII): one node migrates at a time. */
const MIGRATION_LOCK = 0x6a616262;

/** Rows read per query while listing: each batch is its own snapshot, as with Deno KV. */
const LIST_BATCH = 500;
/** Attempts at a commit PostgreSQL aborted for a conflict with another one (SQLSTATE 40001). */
const COMMIT_ATTEMPTS = 20;
/** The driver's connect timeout, in seconds (its default is 30). */
const CONNECT_TIMEOUT = 10;
/**
 * How long a query or transaction may run before the pool is taken for wedged: a few seconds past
 * the connect timeout, and far above what any query of this store takes (milliseconds).
 */
const QUERY_TIMEOUT = 15_000;

export interface PostgresKvOptions {
  /** The most connections the pool opens; else the URL's `max` (`?max=20`), else 10. */
  connections?: number;
  /** Milliseconds a query or commit may take before the pool is replaced; else 15,000. */
  queryTimeout?: number;
}

type Sql = postgres.Sql;

/** Opens the store at `url` (`postgres://user:password@host:port/database`), migrating it. */
export async function openPostgresKv(
  url: string,
  options: PostgresKvOptions = {},
): Promise<PostgresKvStore> {
  // postgres.js reads `max` from the URL as a string, which its pool takes for one connection.
  const max = options.connections ?? Number(new URL(url).searchParams.get("max") ?? 10);
  if (!Number.isInteger(max) || max < 1) {
    throw new TypeError(`The pool size must be a positive integer: received ${max}`);
  }
  const pool = new GuardedPool({
    create: () =>
      postgres(url, {
        max,
        connect_timeout: CONNECT_TIMEOUT,
        // No array types are used (keys and values are bytea, lists expand to `in (…)`). Fetching
        // them runs a query at each connect whose failure nobody awaits: a pool ended while
        // connecting rejects it unhandled (docs/runtime-notes.md "PostgreSQL").
        fetch_types: false,
        // "relation already exists, skipping" and the like are not worth a line on the console.
        onnotice: () => {},
        connection: { application_name: "jabberd" },
      }),
    queryBound: options.queryTimeout ?? QUERY_TIMEOUT,
  });
  try {
    await migrate(pool.sql);
  } catch (error) {
    await pool.end(1);
    throw error;
  }
  return new PostgresKvStore(pool);
}

/** Brings the schema up to `MIGRATIONS.length`; returns the version found before. */
export async function migrate(sql: Sql): Promise<number> {
  return await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${MIGRATION_LOCK})`;
    await tx`create table if not exists jabberd_schema_version (
      version integer primary key, applied timestamptz not null default now())`;
    const [row] = await tx`select coalesce(max(version), 0) as version from jabberd_schema_version`;
    const found = Number(row.version);
    if (found > MIGRATIONS.length) {
      throw new Error(
        `The PostgreSQL schema is at version ${found}, newer than this jabberd knows ` +
          `(${MIGRATIONS.length}): upgrade jabberd`,
      );
    }
    for (let version = found + 1; version <= MIGRATIONS.length; version++) {
      for (const statement of MIGRATIONS[version - 1]) await tx.unsafe(statement);
      await tx`insert into jabberd_schema_version (version) values (${version})`;
    }
    return found;
  });
}

/** Deno KV answers a closed store with a BadResource error; so does this one. */
class BadResourceError extends Error {
  override name = "BadResource";
}

type Mutation = { key: KvKey; value?: Uint8Array; size: number };

export class PostgresKvStore implements KvStore {
  readonly #pool: GuardedPool;
  #closed = false;
  #ended: Promise<void> = Promise.resolve();

  constructor(pool: GuardedPool) {
    this.#pool = pool;
  }

  /** How many times the connection pool was replaced (`./pool.ts`). */
  get poolResets(): number {
    return this.#pool.resets;
  }

  async get<T = unknown>(key: KvKey): Promise<KvEntry<T>> {
    this.#assertOpen();
    const id = readId(key);
    const [row] = await this.#pool.run((sql) =>
      sql`select value, versionstamp from jabberd_kv where key = ${id}`
    );
    return entry<T>(key, row);
  }

  async getMany<T = unknown>(keys: KvKey[]): Promise<KvEntry<T>[]> {
    this.#assertOpen();
    checkGetMany(keys.length);
    if (keys.length === 0) return [];
    const ids = keys.map(readId);
    const rows = await this.#pool.run((sql) =>
      sql`select key, value, versionstamp from jabberd_kv where key in ${sql(ids)}`
    );
    const found = new Map(rows.map((row) => [hex(row.key), row]));
    return keys.map((key, index) => entry<T>(key, found.get(hex(ids[index]))));
  }

  list<T = unknown>(
    selector: KvListSelector,
    options: KvListOptions = {},
  ): AsyncIterable<KvEntry<T>> {
    // deno-lint-ignore no-this-alias
    const store = this;
    return {
      async *[Symbol.asyncIterator]() {
        store.#assertOpen();
        const { start, end } = listRange(selector, options);
        const pool = store.#pool;
        let left = options.limit ?? Infinity;
        let after: Uint8Array | undefined;
        while (left > 0) {
          const batch = Math.min(left, LIST_BATCH);
          const rows = await pool.run((sql) =>
            options.reverse
              ? sql`select key, value, versionstamp from jabberd_kv
                where key >= ${start} and key < ${after ?? end} order by key desc limit ${batch}`
              : sql`select key, value, versionstamp from jabberd_kv
                where ${after ? sql`key > ${after}` : sql`key >= ${start}`} and key < ${end}
                order by key limit ${batch}`
          );
          for (const row of rows) yield entry<T>(decodeKey(row.key), row);
          if (rows.length < batch) return;
          left -= rows.length;
          after = rows[rows.length - 1].key;
        }
      },
    };
  }

  atomic(): KvAtomic {
    return new PostgresKvAtomic((checks, mutations) => this.#commit(checks, mutations));
  }

  /** Ends the pool; `ended()` resolves when its connections are closed. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#ended = this.#pool.end(5);
  }

  ended(): Promise<void> {
    return this.#ended;
  }

  #assertOpen(): void {
    if (this.#closed) throw new BadResourceError("Bad resource ID");
  }

  async #commit(
    checks: { key: KvKey; versionstamp: string | null }[],
    mutations: Mutation[],
  ): Promise<{ ok: boolean }> {
    this.#assertOpen();
    checkAtomic(mutations.length, checks.length);
    let total = 0;
    const expected = new Map<string, string | null>();
    for (const check of checks) {
      if (check.versionstamp !== null && !/^[0-9a-f]{20}$/.test(check.versionstamp)) {
        throw new TypeError("Invalid check");
      }
      const id = readId(check.key);
      total += id.length;
      expected.set(hex(id), check.versionstamp);
    }
    // Only the last mutation of a key counts: applying them in order leaves just that one.
    const last = new Map<string, { id: Uint8Array; value?: Uint8Array }>();
    for (const mutation of mutations) {
      if (mutation.key.length === 0) throw new TypeError("key cannot be empty");
      const id = encodeKey(mutation.key);
      checkWriteKey(id.length);
      checkValue(mutation.size);
      total += id.length + mutation.size;
      last.set(hex(id), { id, value: mutation.value });
    }
    checkTotal(total);
    const writes = [...last.values()];
    const sets = writes.filter((write) => write.value !== undefined);
    const deletes = writes.filter((write) => write.value === undefined).map((write) => write.id);
    const checkIds = checks.map((check) => readId(check.key));

    for (let attempt = 1;; attempt++) {
      try {
        return await this.#pool.run((sql) =>
          sql.begin("isolation level serializable", async (tx) => {
            if (checkIds.length > 0) {
              const rows = await tx`
              select key, versionstamp from jabberd_kv where key in ${tx(checkIds)}`;
              const current = new Map(rows.map((row) => [hex(row.key), stamp(row.versionstamp)]));
              for (const [id, versionstamp] of expected) {
                if ((current.get(id) ?? null) !== versionstamp) return { ok: false };
              }
            }
            if (writes.length === 0) return { ok: true };
            const [{ version }] = await tx`select nextval('jabberd_kv_version') as version`;
            if (sets.length > 0) {
              const rows = sets.map((write) => ({
                key: write.id,
                value: write.value!,
                versionstamp: version,
              }));
              await tx`insert into jabberd_kv ${tx(rows, "key", "value", "versionstamp")}
              on conflict (key) do update
              set value = excluded.value, versionstamp = excluded.versionstamp`;
            }
            if (deletes.length > 0) await tx`delete from jabberd_kv where key in ${tx(deletes)}`;
            return { ok: true };
          })
        );
      } catch (error) {
        // A serialization failure or a deadlock: the other transaction won; run this one again,
        // so that its checks are read afresh.
        const code = (error as { code?: string }).code;
        if ((code === "40001" || code === "40P01") && attempt < COMMIT_ATTEMPTS) continue;
        throw error;
      }
    }
  }
}

/** Collects checks and mutations; values are serialized when given, as Deno KV does. */
class PostgresKvAtomic implements KvAtomic {
  #checks: { key: KvKey; versionstamp: string | null }[] = [];
  #mutations: Mutation[] = [];
  #apply: (
    checks: { key: KvKey; versionstamp: string | null }[],
    mutations: Mutation[],
  ) => Promise<{ ok: boolean }>;

  constructor(
    apply: (
      checks: { key: KvKey; versionstamp: string | null }[],
      mutations: Mutation[],
    ) => Promise<{ ok: boolean }>,
  ) {
    this.#apply = apply;
  }

  check(key: KvKey, versionstamp: string | null): KvAtomic {
    this.#checks.push({ key: copyKey(key), versionstamp });
    return this;
  }

  set(key: KvKey, value: unknown): KvAtomic {
    const bytes = new Uint8Array(serialize(value));
    // Deno KV stores a Uint8Array as raw bytes and anything else V8-serialized: measure the same.
    const size = value instanceof Uint8Array ? value.byteLength : bytes.length;
    this.#mutations.push({ key: copyKey(key), value: bytes, size });
    return this;
  }

  delete(key: KvKey): KvAtomic {
    this.#mutations.push({ key: copyKey(key), size: 0 });
    return this;
  }

  commit(): Promise<{ ok: boolean }> {
    return this.#apply(this.#checks, this.#mutations);
  }
}

/** The key range a selector covers, checked as Deno KV checks it. */
function listRange(
  selector: KvListSelector,
  options: KvListOptions,
): { start: Uint8Array; end: Uint8Array } {
  const limit = options.limit;
  if (limit !== undefined && (!Number.isInteger(limit) || limit <= 0)) {
    throw new Error(`Limit must be a positive integer: received ${limit}`);
  }
  if (selector.prefix) {
    if (selector.start && selector.end) {
      throw new TypeError(
        "Selector can not specify both 'start' and 'end' key when specifying 'prefix'",
      );
    }
    const prefix = readId(selector.prefix);
    const start = selector.start ? readId(selector.start) : concat(prefix, 0x00);
    const end = selector.end ? readId(selector.end) : concat(prefix, 0xff);
    if (selector.start && !startsWith(start, prefix)) {
      throw new TypeError("Start key is not in the keyspace defined by prefix");
    }
    if (selector.end && !startsWith(end, prefix)) {
      throw new TypeError("End key is not in the keyspace defined by prefix");
    }
    return { start, end };
  }
  if (selector.start && selector.end) {
    const start = readId(selector.start);
    const end = readId(selector.end);
    if (compare(start, end) > 0) throw new TypeError("Start key is greater than end key");
    return { start, end };
  }
  throw new TypeError("Selector must specify either 'prefix' or both 'start' and 'end' key");
}

function readId(key: KvKey): Uint8Array {
  const id = encodeKey(key);
  checkReadKey(id.length);
  return id;
}

/** A row read back as Deno KV's entry; no row: the key is missing. */
function entry<T>(key: KvKey, row: postgres.Row | undefined): KvEntry<T> {
  if (!row) return { key: copyKey(key), value: null, versionstamp: null };
  return {
    key: copyKey(key),
    value: deserialize(row.value) as T,
    versionstamp: stamp(row.versionstamp),
  };
}

/** Deno KV's versionstamp form: a 64-bit commit version and a 16-bit batch index, in hex. */
function stamp(version: string | bigint): string {
  return BigInt(version).toString(16).padStart(16, "0") + "0000";
}

function hex(bytes: Uint8Array): string {
  let out = "";
  for (const byte of bytes) out += byte.toString(16).padStart(2, "0");
  return out;
}

function concat(bytes: Uint8Array, byte: number): Uint8Array {
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  out[bytes.length] = byte;
  return out;
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  return bytes.length >= prefix.length && prefix.every((byte, index) => bytes[index] === byte);
}

function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}
