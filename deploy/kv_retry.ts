/**
 * The isolate's KV writes, retried when SQLite answers "database is locked" (docs/runtime-notes.md,
 * "Deno KV"). Deno KV retries a busy SQLite file itself inside each transaction, but that error
 * was still seen once with two processes on one local KV file (it can come from outside that
 * loop, such as the WAL switch when a connection opens). Deploy's own KV is not SQLite and never
 * says it; locally, a write that meets it is tried again a few times, with a log line, instead
 * of being lost (an inbox entry, a session's ownership, an XDB commit).
 *
 * deploy/main.ts wraps its one `Deno.Kv` here and hands the result to everything that writes:
 * the XDB adapter (adapters.ts) and the isolates feature (isolates.ts).
 */

/** How many times a locked write is tried in all, and the first pause (doubled each time). */
export const LOCKED_ATTEMPTS = 5;
export const LOCKED_FIRST_PAUSE_MS = 10;

/** Whether `error` is SQLite's SQLITE_BUSY as Deno KV reports it. */
export function isLocked(error: unknown): boolean {
  return error instanceof Error && /database is locked/i.test(error.message);
}

export interface RetryOptions {
  /** Told once per retry: what failed and which attempt comes next. */
  log(line: string): void;
  /** Waits between attempts (tests pass one that does not wait). */
  sleep?(ms: number): Promise<void>;
}

/** Runs `write`, again after a pause while it fails with "database is locked", at most `LOCKED_ATTEMPTS` times. */
export async function retryLocked<T>(
  what: string,
  write: () => Promise<T>,
  { log, sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms)) }: RetryOptions,
): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (!isLocked(error) || attempt >= LOCKED_ATTEMPTS) throw error;
      // Jitter, so two processes that collided do not collide again at the same instant.
      const pause = LOCKED_FIRST_PAUSE_MS * 2 ** (attempt - 1) * (0.5 + Math.random());
      log(
        `kv: ${what} met "database is locked"; trying again in ${Math.round(pause)} ms ` +
          `(attempt ${attempt + 1} of ${LOCKED_ATTEMPTS})`,
      );
      await sleep(pause);
    }
  }
}

/**
 * `kv` with `set`, `delete` and `atomic().commit()` retried as above; everything else (reads,
 * `list`, `close`) is the original. Retrying is safe: a write that failed with SQLITE_BUSY
 * committed nothing (its transaction was rolled back), and an atomic's checks are checked again.
 */
export function retryingKv(kv: Deno.Kv, options: RetryOptions): Deno.Kv {
  return new Proxy(kv, {
    get(target, property) {
      if (property === "set") {
        return (key: Deno.KvKey, value: unknown, settings?: { expireIn?: number }) =>
          retryLocked("a set", () => target.set(key, value, settings), options);
      }
      if (property === "delete") {
        return (key: Deno.KvKey) => retryLocked("a delete", () => target.delete(key), options);
      }
      if (property === "atomic") return () => retryingAtomic(target.atomic(), options);
      const member = Reflect.get(target, property, target);
      return typeof member === "function" ? member.bind(target) : member;
    },
  });
}

/** An atomic operation whose `commit` is retried; the builder methods keep returning it. */
function retryingAtomic(atomic: Deno.AtomicOperation, options: RetryOptions): Deno.AtomicOperation {
  const proxy: Deno.AtomicOperation = new Proxy(atomic, {
    get(target, property) {
      if (property === "commit") {
        return () => retryLocked("an atomic commit", () => target.commit(), options);
      }
      const member = Reflect.get(target, property, target);
      if (typeof member !== "function") return member;
      return (...args: unknown[]) => {
        const result = member.apply(target, args);
        return result === target ? proxy : result;
      };
    },
  });
  return proxy;
}
