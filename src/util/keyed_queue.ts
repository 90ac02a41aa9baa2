/**
 * Runs async jobs one after another per key, so that a read-modify-write of one key's data never
 * interleaves with another on the same data, while different keys run in parallel: a user's bare
 * JID in the session manager (offline count and append, delivery and deletion; roster; PEP), a
 * room in MUC (a join, a kick, a store of its configuration).
 */
export class KeyedQueue {
  readonly #tails = new Map<string, Promise<unknown>>();

  /** Runs `job` once every job queued before it for `key` has settled. */
  run<T>(key: string, job: () => T | Promise<T>): Promise<T> {
    const before = this.#tails.get(key) ?? Promise.resolve();
    const result = before.then(job, job);
    const tail = result.then(() => {}, () => {});
    this.#tails.set(key, tail);
    // Forget the key once nothing else was queued behind this job, so the map stays small.
    tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** Resolves once every queued job has settled, including jobs queued meanwhile. */
  async idle(): Promise<void> {
    while (this.#tails.size > 0) await Promise.all(this.#tails.values());
  }

  /** How many keys have work queued (for tests and stats). */
  get size(): number {
    return this.#tails.size;
  }
}
