/**
 * Issue 11, item 4 of the deploy check: the isolate's KV writes are tried again when SQLite says
 * "database is locked", a bounded number of times, each retry logged (kv_retry.ts).
 */
import assert from "node:assert/strict";
import { isLocked, LOCKED_ATTEMPTS, retryingKv, retryLocked } from "./kv_retry.ts";

const LOCKED = () => new Error("database is locked");

/** Options that record the log and do not wait. */
function recorder() {
  const lines: string[] = [];
  const pauses: number[] = [];
  return {
    lines,
    pauses,
    options: {
      log: (line: string) => void lines.push(line),
      sleep: (ms: number) => Promise.resolve(void pauses.push(ms)),
    },
  };
}

Deno.test('4 a write that meets "database is locked" is tried again, with a log line per retry, and succeeds', async () => {
  const { lines, pauses, options } = recorder();
  let calls = 0;
  const result = await retryLocked("a set", () => {
    calls++;
    return calls < 3 ? Promise.reject(LOCKED()) : Promise.resolve("stored");
  }, options);
  assert.equal(result, "stored");
  assert.equal(calls, 3);
  assert.equal(lines.length, 2);
  assert.match(
    lines[0],
    /kv: a set met "database is locked"; trying again in \d+ ms \(attempt 2 of 5\)/,
  );
  assert.match(lines[1], /\(attempt 3 of 5\)/);
  // The pause grows: 10 ms then 20 ms, each with ±50 % jitter.
  assert.ok(pauses[0] >= 5 && pauses[0] <= 15, String(pauses));
  assert.ok(pauses[1] >= 10 && pauses[1] <= 30, String(pauses));
});

Deno.test("4 the retries are bounded: after the last attempt the error reaches the caller", async () => {
  const { lines, options } = recorder();
  let calls = 0;
  await assert.rejects(
    retryLocked("a delete", () => {
      calls++;
      return Promise.reject(LOCKED());
    }, options),
    /database is locked/,
  );
  assert.equal(calls, LOCKED_ATTEMPTS);
  assert.equal(lines.length, LOCKED_ATTEMPTS - 1);
});

Deno.test("4 other errors are not retried", async () => {
  const { lines, options } = recorder();
  let calls = 0;
  await assert.rejects(
    retryLocked("a set", () => {
      calls++;
      return Promise.reject(new TypeError("Value too large (max 65536 bytes)"));
    }, options),
    /Value too large/,
  );
  assert.equal(calls, 1);
  assert.deepEqual(lines, []);
  assert.ok(isLocked(new Error("database is locked")));
  assert.ok(!isLocked(new Error("database is closed")));
});

Deno.test("4 retryingKv retries set, delete and atomic commits of a real Deno KV, and leaves reads alone", async () => {
  const kv = await Deno.openKv(":memory:");
  const { lines, options } = recorder();
  // The first attempt of each write meets a lock, as when another process holds the file.
  const failOnce = new Set(["set", "delete", "commit"]);
  const flaky = new Proxy(kv, {
    get(target, property) {
      const member = Reflect.get(target, property, target);
      if (typeof member !== "function") return member;
      if (property === "atomic") {
        return () => {
          const atomic = target.atomic();
          const commit = atomic.commit.bind(atomic);
          atomic.commit = () => failOnce.delete("commit") ? Promise.reject(LOCKED()) : commit();
          return atomic;
        };
      }
      return (...args: unknown[]) =>
        failOnce.delete(String(property)) ? Promise.reject(LOCKED()) : member.apply(target, args);
    },
  });
  const wrapped = retryingKv(flaky, options);
  try {
    await wrapped.set(["a"], 1);
    assert.equal((await wrapped.get(["a"])).value, 1);
    const entry = await wrapped.get(["a"]);
    const committed = await wrapped.atomic().check(entry).set(["a"], 2).set(["b"], 3).commit();
    assert.equal(committed.ok, true);
    assert.equal((await kv.get(["a"])).value, 2);
    assert.equal((await kv.get(["b"])).value, 3);
    await wrapped.delete(["b"]);
    assert.equal((await kv.get(["b"])).value, null);
    const listed = [];
    for await (const item of wrapped.list({ prefix: [] })) listed.push(item.key);
    assert.deepEqual(listed, [["a"]]);
    assert.equal(lines.length, 3);
    assert.match(lines.join("\n"), /a set met/);
    assert.match(lines.join("\n"), /an atomic commit met/);
    assert.match(lines.join("\n"), /a delete met/);
  } finally {
    kv.close();
  }
});
