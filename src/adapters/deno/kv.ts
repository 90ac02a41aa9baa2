/**
 * The KV adapter on Deno KV (`Deno.openKv`): XDB's storage. `path` is a SQLite file, `:memory:`,
 * or a remote KV URL (`https://api.deno.com/databases/<id>/connect`), passed to `Deno.openKv`
 * unchanged; a remote URL needs `DENO_KV_ACCESS_TOKEN` in the environment. A `postgres://` URL
 * opens the PostgreSQL store instead (`../postgres/`, loaded only then).
 */

import type {
  KvAdapter,
  KvAtomic,
  KvEntry,
  KvKey,
  KvListOptions,
  KvListSelector,
  KvOpenOptions,
  KvStore,
} from "../types.ts";

/** A Deno.Kv seen through the KvStore interface. */
export class DenoKvStore implements KvStore {
  #kv: Deno.Kv;

  constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  get<T = unknown>(key: KvKey): Promise<KvEntry<T>> {
    // Deno.KvKey also admits symbols; the keys read back are the ones written, so no symbols.
    return this.#kv.get<T>(key as Deno.KvKey) as unknown as Promise<KvEntry<T>>;
  }

  getMany<T = unknown>(keys: KvKey[]): Promise<KvEntry<T>[]> {
    return this.#kv.getMany<T[]>(keys as Deno.KvKey[]) as unknown as Promise<KvEntry<T>[]>;
  }

  list<T = unknown>(
    selector: KvListSelector,
    options?: KvListOptions,
  ): AsyncIterable<KvEntry<T>> {
    return this.#kv.list<T>(selector as Deno.KvListSelector, options) as unknown as AsyncIterable<
      KvEntry<T>
    >;
  }

  atomic(): KvAtomic {
    return new DenoKvAtomic(this.#kv.atomic());
  }

  close(): void {
    this.#kv.close();
  }
}

/** Deno's AtomicOperation takes checks as objects; this takes them as two arguments. */
class DenoKvAtomic implements KvAtomic {
  #operation: Deno.AtomicOperation;

  constructor(operation: Deno.AtomicOperation) {
    this.#operation = operation;
  }

  check(key: KvKey, versionstamp: string | null): KvAtomic {
    this.#operation.check({ key: key as Deno.KvKey, versionstamp });
    return this;
  }

  set(key: KvKey, value: unknown): KvAtomic {
    this.#operation.set(key as Deno.KvKey, value);
    return this;
  }

  delete(key: KvKey): KvAtomic {
    this.#operation.delete(key as Deno.KvKey);
    return this;
  }

  commit(): Promise<{ ok: boolean }> {
    return this.#operation.commit();
  }
}

export class DenoKvAdapter implements KvAdapter {
  async open(path: string, options: KvOpenOptions = {}): Promise<KvStore> {
    if (/^postgres(ql)?:\/\//i.test(path)) {
      const { openPostgresKv } = await import("../postgres/mod.ts");
      return await openPostgresKv(path, options);
    }
    return new DenoKvStore(await Deno.openKv(path));
  }
}
