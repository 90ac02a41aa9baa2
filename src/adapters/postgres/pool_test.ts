/**
 * The PostgreSQL adapter survives the database stopping under load (docs/runtime-notes.md
 * "PostgreSQL"): (a) the driver's write-after-close TypeError is caught at the process level and
 * nothing else is, (b) a query that outlives its bound replaces the pool, and both together keep
 * a loaded store alive and answering across repeated stops of a real PostgreSQL.
 */

import assert from "node:assert/strict";
import type postgres from "postgres";
import { isDriverWriteBug, onDriverFault } from "./driver_guard.ts";
import { GuardedPool, PoolResetError } from "./pool.ts";
import { openPostgresKv } from "./kv.ts";
import { startPostgres } from "./_testing.ts";

/** The stack npm `postgres` 3.4.9 gives the bug under Deno (denoland/deno#34667). */
function driverError(message = "Cannot read properties of null (reading 'write')"): TypeError {
  const error = new TypeError(message);
  error.stack = `TypeError: ${message}\n` +
    "    at nextWrite (file:///root/.cache/deno/npm/registry.npmjs.org/postgres/3.4.9/src/connection.js:255:22)\n" +
    "    at Immediate.callback (ext:deno_node/internal/timers.mjs:385:16)";
  return error;
}

Deno.test("(a) only the driver's write-after-close TypeError thrown inside the postgres package is recognised", () => {
  assert.equal(isDriverWriteBug(driverError()), true);
  assert.equal(
    isDriverWriteBug(driverError("null is not an object (evaluating 'socket.write')")),
    true,
  );
  const inNodeModules = new TypeError("Cannot read properties of null (reading 'write')");
  inNodeModules.stack =
    "TypeError: …\n    at nextWrite (/app/node_modules/postgres/src/connection.js:255:22)";
  assert.equal(isDriverWriteBug(inNodeModules), true);
  // The same message from our own code, another message from the driver, or not a TypeError.
  const ours = new TypeError("Cannot read properties of null (reading 'write')");
  ours.stack = "TypeError: …\n    at send (file:///work/main/src/c2s/stream.ts:10:5)";
  assert.equal(isDriverWriteBug(ours), false);
  assert.equal(
    isDriverWriteBug(driverError("Cannot read properties of null (reading 'end')")),
    false,
  );
  const notType = new Error("Cannot read properties of null (reading 'write')");
  notType.stack = driverError().stack;
  assert.equal(isDriverWriteBug(notType), false);
  assert.equal(isDriverWriteBug("Cannot read properties of null (reading 'write')"), false);
});

Deno.test("(a) the driver error thrown from an immediate is kept in and reported, and later immediates still run", async () => {
  const faults: Error[] = [];
  const stop = onDriverFault((error) => faults.push(error));
  try {
    const thrown = driverError();
    setImmediate(() => {
      throw thrown;
    });
    // Under Deno an escaped throw breaks the runtime's immediate queue: these must still run.
    for (let n = 0; n < 3; n++) await new Promise<void>((resolve) => setImmediate(resolve));
    assert.deepEqual(faults, [thrown]);
  } finally {
    stop();
  }
});

/** A stand-in for a driver pool: queries answer `answer`, or never settle when it is undefined. */
function fakeSql(answer: string | undefined, ended: string[]): postgres.Sql {
  return {
    answer,
    end: () => {
      ended.push(answer ?? "wedged");
      return Promise.resolve();
    },
  } as unknown as postgres.Sql;
}

Deno.test("(b) a query that does not settle within the bound replaces the pool: it fails with PoolResetError, the old pool is ended and the next query uses the new pool", async () => {
  const ended: string[] = [];
  const made = [fakeSql(undefined, ended), fakeSql("fresh", ended)];
  const pool = new GuardedPool({ create: () => made.shift()!, queryBound: 50 });
  const query = (sql: postgres.Sql) => {
    const answer = (sql as unknown as { answer?: string }).answer;
    return answer === undefined ? new Promise<string>(() => {}) : Promise.resolve(answer);
  };
  const first = pool.run(query);
  const second = pool.run(query);
  await assert.rejects(
    first,
    (error) => error instanceof PoolResetError && /50 ms/.test(error.message),
  );
  // One stuck query replaces the pool once; the others in flight on it fail with it.
  await assert.rejects(second, PoolResetError);
  assert.equal(pool.resets, 1);
  assert.deepEqual(ended, ["wedged"]);
  assert.equal(await pool.run(query), "fresh");
  await pool.end(0);
  assert.deepEqual(ended, ["wedged", "fresh"]);
});

const server = await startPostgres();
// Stops the server even when a filter leaves the test out (`stop` runs once).
if (typeof server !== "string") globalThis.addEventListener("unload", () => server.stop());
const STOPS = 8;
const WRITERS = 40;

Deno.test({
  name:
    `(a)+(b) PostgreSQL stopped ${STOPS} times while writes are pending: the process survives and the store answers again after each restart`,
  ignore: typeof server === "string",
  // The driver leaves timers and sockets of the pools thrown away; they end on their own.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    if (typeof server === "string") return;
    const store = await openPostgresKv(server.url(), { connections: 10, queryTimeout: 5_000 });
    try {
      const outcomes = { ok: 0, failed: 0 };
      for (let stop = 1; stop <= STOPS; stop++) {
        // Writes kept pending: each writer commits small values (writes the driver defers to a
        // `setImmediate`) until the server is gone.
        let running = true;
        const writers = Array.from({ length: WRITERS }, async (_, writer) => {
          for (let n = 0; running && n < 10_000; n++) {
            try {
              await store.atomic().set(["w", writer], { stop, n }).commit();
              outcomes.ok++;
            } catch {
              outcomes.failed++;
              return;
            }
          }
        });
        await new Promise((resolve) => setTimeout(resolve, 150));
        await server.halt();
        running = false;
        // Every pending write settles (the watchdog bounds the wedged ones); without it a wedged
        // write never would, so the wait itself is bounded, far above the 5 s watchdog.
        let timer: ReturnType<typeof setTimeout> | undefined;
        const settled = await Promise.race([
          Promise.all(writers).then(() => true),
          new Promise<false>((resolve) => timer = setTimeout(() => resolve(false), 60_000)),
        ]);
        clearTimeout(timer);
        assert.ok(settled, `every pending write settled after stop ${stop}`);
        await server.resume();
        // The store answers again: bounded retries while the pool reconnects or is replaced.
        let answered = false;
        for (let attempt = 0; attempt < 60 && !answered; attempt++) {
          try {
            await store.atomic().set(["after", stop], stop).commit();
            answered = (await store.get(["after", stop])).value === stop;
          } catch {
            await new Promise((resolve) => setTimeout(resolve, 250));
          }
        }
        assert.ok(answered, `the store answered after restart ${stop}`);
      }
      assert.ok(outcomes.ok > 0 && outcomes.failed > 0, JSON.stringify(outcomes));
      console.log(`writes: ${JSON.stringify(outcomes)}, pool replaced ${store.poolResets} times`);
    } finally {
      store.close();
      await store.ended();
    }
  },
});
