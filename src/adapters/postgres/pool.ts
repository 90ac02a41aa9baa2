/**
 * The driver's pool behind a watchdog (docs/runtime-notes.md "PostgreSQL").
 *
 * npm `postgres` 3.4.9 can leave a connection wedged when the server goes away while a write is
 * pending: its queries then never settle, even once the server is back. So every query or
 * transaction runs under a bound; when one does not settle in time, or when the driver's
 * write-after-close error is caught (`./driver_guard.ts`), the whole pool is thrown away (ended
 * with no grace, not awaited) and a new one made. Queries in flight on the old pool fail with a
 * `PoolResetError`; the next ones use the new pool. One stuck query costs the others on the old
 * pool their answer, which is the price of not knowing which connection is wedged.
 */

import type postgres from "postgres";
import { onDriverFault } from "./driver_guard.ts";

type Sql = postgres.Sql;

/** A query failed because the pool it ran on was replaced; whether a commit landed is unknown. */
export class PoolResetError extends Error {
  override name = "PoolResetError";
}

interface Flight {
  generation: number;
  fail(error: Error): void;
}

export interface GuardedPoolOptions {
  /** Makes a new driver pool. */
  create: () => Sql;
  /** Milliseconds a query or transaction may take before the pool is taken for wedged. */
  queryBound: number;
}

export class GuardedPool {
  readonly #create: () => Sql;
  readonly #bound: number;
  #sql: Sql;
  #generation = 0;
  #resets = 0;
  #closed = false;
  readonly #flights = new Set<Flight>();
  readonly #stopListening: () => void;

  constructor(options: GuardedPoolOptions) {
    if (!Number.isFinite(options.queryBound) || options.queryBound <= 0) {
      throw new TypeError(`The query bound must be a positive number of ms: ${options.queryBound}`);
    }
    this.#create = options.create;
    this.#bound = options.queryBound;
    this.#sql = options.create();
    this.#stopListening = onDriverFault(() => this.reset("the driver's write-after-close error"));
  }

  /** The current driver pool, for work that runs without the watchdog (migrations at open). */
  get sql(): Sql {
    return this.#sql;
  }

  /** How many times the pool was replaced. */
  get resets(): number {
    return this.#resets;
  }

  /** Runs `work` on the current pool; it fails with `PoolResetError` if the pool is replaced. */
  run<T>(work: (sql: Sql) => Promise<T>): Promise<T> {
    const generation = this.#generation;
    const sql = this.#sql;
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const finish = () => {
        settled = true;
        clearTimeout(timer);
        this.#flights.delete(flight);
      };
      const flight: Flight = {
        generation,
        fail: (error) => {
          if (settled) return;
          finish();
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        this.reset(`a query did not settle within ${this.#bound} ms`, generation);
      }, this.#bound);
      this.#flights.add(flight);
      work(sql).then(
        (value) => {
          if (settled) return;
          finish();
          resolve(value);
        },
        (error) => {
          if (settled) return;
          finish();
          reject(error);
        },
      );
    });
  }

  /**
   * Throws the pool away and makes a new one, failing what is in flight on it. `generation`, when
   * given, is the pool the caller saw: if that one was already replaced, nothing happens.
   */
  reset(reason: string, generation = this.#generation): void {
    if (this.#closed || generation !== this.#generation) return;
    const old = this.#sql;
    this.#generation++;
    this.#resets++;
    this.#sql = this.#create();
    console.error(`postgres: replaced the connection pool: ${reason}`);
    const error = new PoolResetError(
      `The PostgreSQL connection pool was replaced (${reason}) while this query ran; ` +
        `a commit's outcome is unknown`,
    );
    for (const flight of [...this.#flights]) {
      if (flight.generation === generation) flight.fail(error);
    }
    // Ended with no grace and not awaited: a wedged connection may never finish ending.
    old.end({ timeout: 0 }).catch(() => {});
  }

  /** Ends the pool, giving its queries `timeout` seconds; resolves when it is closed. */
  async end(timeout: number): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#stopListening();
    await this.#sql.end({ timeout });
  }
}
