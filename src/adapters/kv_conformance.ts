/**
 * The shared conformance suite for KvStore implementations: every store the server may run on
 * (Deno KV on a file or in memory, the in-memory test store) must behave like Deno KV here.
 */

import assert from "node:assert/strict";
import type { KvEntry, KvKey, KvListOptions, KvListSelector, KvStore } from "./types.ts";

/** Registers the suite's tests under `name`; `open` gives a fresh, empty store per test. */
export function kvConformance(name: string, open: () => Promise<KvStore>): void {
  const test = (title: string, body: (kv: KvStore) => Promise<void>) => {
    Deno.test(`KvStore (${name}) ${title}`, async () => {
      const kv = await open();
      try {
        await body(kv);
      } finally {
        kv.close();
      }
    });
  };

  test("get() of a missing key gives a null value and a null versionstamp", async (kv) => {
    assert.deepEqual(await kv.get(["missing"]), {
      key: ["missing"],
      value: null,
      versionstamp: null,
    });
  });

  test("atomic().set() stores values that get() reads back with a versionstamp", async (kv) => {
    const result = await kv.atomic().set(["user", "romeo"], { name: "Romeo", age: 16 }).commit();
    assert.equal(result.ok, true);
    const entry = await kv.get(["user", "romeo"]);
    assert.deepEqual(entry.key, ["user", "romeo"]);
    assert.deepEqual(entry.value, { name: "Romeo", age: 16 });
    assert.match(entry.versionstamp ?? "", /^[0-9a-f]{20}$/);
  });

  test("versionstamps grow with every commit and are shared inside one", async (kv) => {
    await kv.atomic().set(["a"], 1).set(["b"], 2).commit();
    await kv.atomic().set(["c"], 3).commit();
    const [a, b, c] = await kv.getMany([["a"], ["b"], ["c"]]);
    assert.equal(a.versionstamp, b.versionstamp);
    assert.ok(c.versionstamp! > a.versionstamp!);
  });

  test("values are copied in and out", async (kv) => {
    const value = { list: [1, 2] };
    await kv.atomic().set(["copy"], value).commit();
    value.list.push(3);
    const first = await kv.get<{ list: number[] }>(["copy"]);
    assert.deepEqual(first.value, { list: [1, 2] });
    first.value!.list.push(4);
    assert.deepEqual((await kv.get(["copy"])).value, { list: [1, 2] });
  });

  test("structured-cloneable values survive a round trip", async (kv) => {
    const values: unknown[] = [
      new Date(0),
      new Map([["k", 1]]),
      new Set(["s"]),
      new Uint8Array([0, 1, 255]),
      12345678901234567890n,
      "text",
      0,
      false,
      undefined,
      [null, { nested: true }],
    ];
    for (const [index, value] of values.entries()) {
      await kv.atomic().set(["value", index], value).commit();
      assert.deepEqual((await kv.get(["value", index])).value, value);
    }
  });

  test("list() orders keys as Deno KV: bytes, strings, bigints, numbers, booleans", async (kv) => {
    const ordered: KvKey[] = [
      [new Uint8Array([])],
      [new Uint8Array([0])],
      [new Uint8Array([1])],
      [""],
      ["a"],
      ["a", 1],
      ["a\0"],
      ["b"],
      ["z"],
      ["é"],
      [-(2n ** 70n)],
      [-1n],
      [0n],
      [1n],
      [255n],
      [256n],
      [2n ** 70n],
      [-Infinity],
      [-1.5],
      [-0],
      [0],
      [1],
      [2.5],
      [Infinity],
      [false],
      [true],
    ];
    const shuffled = ordered.map((key, index) => ({ key, sort: (index * 7919) % ordered.length }))
      .sort((x, y) => x.sort - y.sort);
    for (const { key } of shuffled) await kv.atomic().set(key, 1).commit();
    assert.deepEqual(await keys(kv, { prefix: [] }), ordered);
  });

  test("list() by prefix leaves out the prefix key itself", async (kv) => {
    await setAll(kv, [["room"], ["room", "a"], ["room", "b"], ["roomy"], ["rom"]]);
    assert.deepEqual(await keys(kv, { prefix: ["room"] }), [["room", "a"], ["room", "b"]]);
  });

  test("list() honors limit and reverse", async (kv) => {
    await setAll(kv, [0, 1, 2, 3, 4].map((n) => ["n", n]));
    assert.deepEqual(await keys(kv, { prefix: ["n"] }, { limit: 2 }), [["n", 0], ["n", 1]]);
    assert.deepEqual(await keys(kv, { prefix: ["n"] }, { reverse: true, limit: 2 }), [
      ["n", 4],
      ["n", 3],
    ]);
    assert.deepEqual(await keys(kv, { prefix: ["n"] }, { reverse: true }), [
      ["n", 4],
      ["n", 3],
      ["n", 2],
      ["n", 1],
      ["n", 0],
    ]);
  });

  test("list() ranges include start and exclude end", async (kv) => {
    await setAll(kv, [["r"], ...[0, 1, 2, 3, 4].map((n) => ["r", n])]);
    assert.deepEqual(await keys(kv, { start: ["r", 1], end: ["r", 3] }), [["r", 1], ["r", 2]]);
    assert.deepEqual(await keys(kv, { start: ["r"], end: ["r", 1] }), [["r"], ["r", 0]]);
    assert.deepEqual(await keys(kv, { prefix: ["r"], start: ["r", 3] }), [["r", 3], ["r", 4]]);
    assert.deepEqual(await keys(kv, { prefix: ["r"], end: ["r", 2] }), [["r", 0], ["r", 1]]);
    assert.deepEqual(await keys(kv, { prefix: ["r"], start: ["r", 2] }, { reverse: true }), [
      ["r", 4],
      ["r", 3],
      ["r", 2],
    ]);
  });

  test("list() refuses selectors Deno KV refuses", async (kv) => {
    await assert.rejects(
      keys(kv, { prefix: ["a"], start: ["a", 1], end: ["a", 2] }),
      TypeError,
    );
    await assert.rejects(keys(kv, { prefix: ["a"], start: ["b"] }), {
      name: "TypeError",
      message: "Start key is not in the keyspace defined by prefix",
    });
    await assert.rejects(keys(kv, { start: ["a"] }), TypeError);
    await assert.rejects(keys(kv, { start: ["b"], end: ["a"] }), {
      name: "TypeError",
      message: "Start key is greater than end key",
    });
    await assert.rejects(keys(kv, { prefix: [] }, { limit: 0 }), /Limit must be a positive/);
  });

  test("getMany() answers in the order asked, at most 10 keys", async (kv) => {
    await setAll(kv, [["x", 1], ["x", 3]]);
    const entries = await kv.getMany([["x", 3], ["x", 2], ["x", 1]]);
    assert.deepEqual(entries.map((entry) => [entry.key, entry.value]), [
      [["x", 3], 1],
      [["x", 2], null],
      [["x", 1], 1],
    ]);
    await assert.rejects(kv.getMany(Array.from({ length: 11 }, (_, i) => ["x", i])), {
      name: "TypeError",
      message: "Too many ranges (max 10)",
    });
  });

  test("atomic() checks make a commit all or nothing", async (kv) => {
    assert.equal((await kv.atomic().check(["lock"], null).set(["lock"], "A").commit()).ok, true);
    const taken = await kv.atomic().check(["lock"], null).set(["lock"], "B").set(["other"], 1)
      .commit();
    assert.equal(taken.ok, false);
    assert.equal((await kv.get(["lock"])).value, "A");
    assert.equal((await kv.get(["other"])).versionstamp, null);

    const current = await kv.get(["lock"]);
    await kv.atomic().set(["lock"], "C").commit();
    const stale = await kv.atomic().check(["lock"], current.versionstamp).delete(["lock"]).commit();
    assert.equal(stale.ok, false);
    const fresh = await kv.get(["lock"]);
    const removed = await kv.atomic().check(["lock"], fresh.versionstamp).delete(["lock"]).commit();
    assert.equal(removed.ok, true);
    assert.equal((await kv.get(["lock"])).value, null);
  });

  test("atomic() applies mutations in order", async (kv) => {
    await kv.atomic().set(["d"], 1).set(["d"], 2).commit();
    assert.equal((await kv.get(["d"])).value, 2);
    await kv.atomic().set(["d"], 3).delete(["d"]).commit();
    assert.equal((await kv.get(["d"])).versionstamp, null);
  });

  test("atomic() enforces Deno KV's limits", async (kv) => {
    const many = kv.atomic();
    for (let i = 0; i < 1001; i++) many.set(["m", i], i);
    await assert.rejects(many.commit(), {
      name: "TypeError",
      message: "Too many mutations (max 1000)",
    });
    const thousand = kv.atomic();
    for (let i = 0; i < 1000; i++) thousand.set(["m", i], i);
    assert.equal((await thousand.commit()).ok, true);

    const checks = kv.atomic();
    for (let i = 0; i < 101; i++) checks.check(["c", i], null);
    await assert.rejects(checks.commit(), { message: "Too many checks (max 100)" });

    await assert.rejects(
      Promise.resolve().then(() => kv.atomic().set(["big"], new Uint8Array(65537)).commit()),
      { name: "TypeError", message: "Value too large (max 65536 bytes)" },
    );
    assert.equal((await kv.atomic().set(["big"], new Uint8Array(65536)).commit()).ok, true);
    // A string is V8-serialized: 6 bytes of framing for this length.
    assert.equal((await kv.atomic().set(["s"], "x".repeat(65530)).commit()).ok, true);
    await assert.rejects(
      Promise.resolve().then(() => kv.atomic().set(["s"], "x".repeat(65531)).commit()),
      { message: "Value too large (max 65536 bytes)" },
    );
    await assert.rejects(
      Promise.resolve().then(() => kv.atomic().set(["k".repeat(2100)], 1).commit()),
      { name: "TypeError", message: "Key too large for write (max 2048 bytes)" },
    );
    await assert.rejects(
      Promise.resolve().then(() => kv.atomic().set([], 1).commit()),
      TypeError,
    );
    const total = kv.atomic();
    for (let i = 0; i < 14; i++) total.set(["t", i], new Uint8Array(60000));
    await assert.rejects(total.commit(), {
      message: "Total mutation size too large (max 819200 bytes)",
    });
    assert.equal((await kv.get(["t", 0])).versionstamp, null);
  });

  test("get() refuses a key too large to read", async (kv) => {
    await assert.rejects(Promise.resolve().then(() => kv.get(["k".repeat(2100)])), {
      name: "TypeError",
      message: "Key too large for read (max 2049 bytes)",
    });
  });

  Deno.test(`KvStore (${name}) close() ends the store`, async () => {
    const kv = await open();
    kv.close();
    await assert.rejects(Promise.resolve().then(() => kv.get(["a"])));
  });
}

async function setAll(kv: KvStore, keys: KvKey[]): Promise<void> {
  const atomic = kv.atomic();
  for (const key of keys) atomic.set(key, 1);
  assert.equal((await atomic.commit()).ok, true);
}

async function keys(
  kv: KvStore,
  selector: KvListSelector,
  options?: KvListOptions,
): Promise<KvKey[]> {
  const found: KvKey[] = [];
  for await (const entry of kv.list(selector, options) as AsyncIterable<KvEntry>) {
    found.push(entry.key);
  }
  return found;
}
