/**
 * The one conformance suite for XdbStore over any KvStore (docs/architecture.md "Storage: XDB on
 * Deno KV"; docs/adapters.md "Conformance suites"): run it against every KV backend. It is
 * runtime-free: it returns named cases, and a `_test.ts` file registers them as tests.
 */
import assert from "node:assert/strict";
import type { KvAtomic, KvKey, KvStore } from "../../adapters/types.ts";
import { Element, xml } from "../../xml/element.ts";
import { xdbMatch } from "../../server/xdb_client.ts";
import { XdbStore } from "./store.ts";

export interface ConformanceOptions {
  /** True when closing and opening the same name again keeps the data (files, shared memory). */
  durable: boolean;
}

export interface ConformanceCase {
  name: string;
  fn: () => Promise<void>;
}

/** Opens a KV store by name: each case uses its own name; the same name means the same data. */
export type OpenKv = (name: string) => Promise<KvStore>;

const ROSTER = "jabber:iq:roster";
const OFFLINE = "jabber:x:offline";

/** A KvStore that counts commits and can make a commit throw, to observe the store's batching. */
export class CountingKv implements KvStore {
  commits = 0;
  /** A commit that would set a string value containing this text throws instead. */
  poison: string | undefined;
  readonly #inner: KvStore;

  constructor(inner: KvStore) {
    this.#inner = inner;
  }

  get: KvStore["get"] = (key) => this.#inner.get(key);
  getMany: KvStore["getMany"] = (keys) => this.#inner.getMany(keys);
  list: KvStore["list"] = (selector, options) => this.#inner.list(selector, options);
  close(): void {
    this.#inner.close();
  }

  atomic(): KvAtomic {
    const inner = this.#inner.atomic();
    let poisoned = false;
    const outer: KvAtomic = {
      check: (key: KvKey, versionstamp: string | null) => {
        inner.check(key, versionstamp);
        return outer;
      },
      set: (key: KvKey, value: unknown) => {
        if (this.poison && typeof value === "string" && value.includes(this.poison)) {
          poisoned = true;
        }
        inner.set(key, value);
        return outer;
      },
      delete: (key: KvKey) => {
        inner.delete(key);
        return outer;
      },
      commit: () => {
        this.commits++;
        if (poisoned) return Promise.reject(new Error("Poisoned commit"));
        return inner.commit();
      },
    };
    return outer;
  }
}

function item(jid: string, name = jid.split("@")[0]): Element {
  return xml("item", { jid, name, subscription: "both" }, xml("group", {}, "Friends"));
}

function jids(element: Element | undefined): string[] {
  return (element?.elements ?? []).map((child) => child.attrs.jid);
}

async function keysUnder(kv: KvStore, prefix: KvKey): Promise<KvKey[]> {
  const keys: KvKey[] = [];
  for await (const entry of kv.list({ prefix })) keys.push(entry.key);
  return keys;
}

/** The cases, named `XdbStore (<name>) …`. */
export function xdbStoreConformance(
  name: string,
  openKv: OpenKv,
  options: ConformanceOptions,
): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  const add = (title: string, body: (kv: KvStore, key: string) => Promise<void>) => {
    const key = title.replace(/[^a-z0-9]+/gi, "-").toLowerCase();
    cases.push({
      name: `XdbStore (${name}) ${title}`,
      fn: async () => {
        const kv = await openKv(key);
        try {
          await body(kv, key);
        } finally {
          // A case may have closed it already (through XdbStore.close()).
          try {
            kv.close();
          } catch { /* already closed */ }
        }
      },
    });
  };

  add("get() answers undefined when nothing is stored", async (kv) => {
    const store = new XdbStore(kv);
    assert.equal(await store.get("alice@example.org", ROSTER), undefined);
  });

  add("set() then get() round-trips attributes, text, nesting and namespace", async (kv) => {
    const store = new XdbStore(kv);
    const vcard = xml(
      "vCard",
      { xmlns: "vcard-temp", version: "3.0" },
      xml("FN", {}, "Alice <A&B> \u00e9\u4e2d\ud83d\ude00"),
      "tail text",
      xml("ADR", {}, xml("HOME"), xml("CTRY", { lang: "fr" }, "France")),
    );
    await store.set("alice@example.org", "vcard-temp", vcard);
    const got = await store.get("alice@example.org", "vcard-temp");
    assert.equal(got?.toString(), vcard.toString());
    assert.equal(got?.ns, "vcard-temp");
    assert.equal(got?.getChild("ADR")?.getChild("CTRY")?.ns, "vcard-temp");
  });

  add("set() keeps the resolved namespace of a root without xmlns", async (kv) => {
    const store = new XdbStore(kv);
    await store.set("alice@example.org", "x", new Element("data", { a: "1" }, ["v"], "urn:x"));
    const got = await store.get("alice@example.org", "x");
    assert.equal(got?.ns, "urn:x");
    assert.equal(got?.text(), "v");
  });

  add(
    "getMany() answers as one get() each, in the order asked, for small and large owners",
    async (kv) => {
      const store = new XdbStore(kv);
      const owner = "alice@example.org";
      await store.set(owner, "n:a", xml("a", { xmlns: "n:a" }, xml("x", { i: "1" }), "text"));
      await store.set(owner, "n:empty", xml("e", { xmlns: "n:empty", k: "v" }));
      await store.set("bob@example.org", "n:a", xml("a", { xmlns: "n:a" }, "bob's"));
      const asked = ["n:missing", "n:empty", "n:a"];
      const expected = async () =>
        (await Promise.all(asked.map((ns) => store.get(owner, ns)))).map((e) => e?.toString());
      const got = async () => (await store.getMany(owner, asked)).map((e) => e?.toString());
      assert.deepEqual(await got(), await expected());
      assert.equal((await store.getMany(owner, asked))[2]?.getChild("x")?.attrs.i, "1");
      // More than one list batch (100 keys): the shells by getMany, then the lists.
      const roster = xml("query", { xmlns: ROSTER });
      for (let i = 0; i < 150; i++) roster.append(xml("item", { jid: `c${i}@x` }));
      await store.set(owner, ROSTER, roster);
      asked.push(ROSTER);
      assert.deepEqual(await got(), await expected());
      assert.equal((await store.getMany(owner, asked))[3]?.getChildren("item").length, 150);
    },
  );

  add("set() replaces everything and set(undefined) removes every key", async (kv) => {
    const store = new XdbStore(kv);
    const owner = "alice@example.org";
    await store.set(owner, ROSTER, xml("query", { xmlns: ROSTER }, item("a@x"), item("b@x")));
    await store.set(owner, ROSTER, xml("query", { xmlns: ROSTER }, item("c@x")));
    assert.deepEqual(jids(await store.get(owner, ROSTER)), ["c@x"]);
    await store.set(owner, ROSTER, undefined);
    assert.equal(await store.get(owner, ROSTER), undefined);
    assert.deepEqual(await keysUnder(kv, ["xdb", "example.org", "alice", ROSTER]), []);
  });

  add("set() drops indentation between child elements", async (kv) => {
    const store = new XdbStore(kv);
    const owner = "alice@example.org";
    await store.set(owner, ROSTER, xml("query", { xmlns: ROSTER }, "\n  ", item("a@x"), "\n"));
    assert.equal((await store.get(owner, ROSTER))?.children.length, 1);
  });

  add("owners are separate: user@host, another user, the bare host", async (kv) => {
    const store = new XdbStore(kv);
    await store.set("alice@example.org", "ns", xml("a", { xmlns: "ns" }));
    await store.set("bob@example.org", "ns", xml("b", { xmlns: "ns" }));
    await store.set("example.org", "ns", xml("host", { xmlns: "ns" }));
    assert.equal((await store.get("alice@example.org/phone", "ns"))?.name, "a");
    assert.equal((await store.get("bob@example.org", "ns"))?.name, "b");
    assert.equal((await store.get("example.org", "ns"))?.name, "host");
    assert.equal(await store.get("alice@example.org", "other"), undefined);
    assert.equal((await keysUnder(kv, ["xdb", "example.org", ""])).length, 1);
  });

  add("insert() appends in order, creating <query xmlns=ns> from nothing", async (kv) => {
    const store = new XdbStore(kv);
    const owner = "alice@example.org";
    await store.insert(owner, ROSTER, item("a@x"));
    await store.insert(owner, ROSTER, item("b@x"));
    await store.insert(owner, ROSTER, item("c@x"), xdbMatch("item", { jid: "c@x" }));
    const got = await store.get(owner, ROSTER);
    assert.equal(got?.name, "query");
    assert.equal(got?.attrs.xmlns, ROSTER);
    assert.deepEqual(jids(got), ["a@x", "b@x", "c@x"]);
  });

  add("insert() with a match replaces that item and keeps its position", async (kv) => {
    const store = new XdbStore(kv);
    const owner = "alice@example.org";
    const roster = xml("query", { xmlns: ROSTER }, item("a@x"), item("b@x"), item("c@x"));
    await store.set(owner, ROSTER, roster);
    await store.insert(owner, ROSTER, item("b@x", "Bobby"), "item?jid=b@x");
    await store.insert(owner, ROSTER, item("d@x"));
    const got = await store.get(owner, ROSTER);
    assert.deepEqual(jids(got), ["a@x", "b@x", "c@x", "d@x"]);
    assert.equal(got?.elements[1].attrs.name, "Bobby");
  });

  add("remove() removes the first matching item and reports a miss", async (kv) => {
    const store = new XdbStore(kv);
    const owner = "alice@example.org";
    await store.set(owner, ROSTER, xml("query", { xmlns: ROSTER }, item("a@x"), item("b@x")));
    assert.equal(await store.remove(owner, ROSTER, "item?jid=a@x"), true);
    assert.equal(await store.remove(owner, ROSTER, "item?jid=zed@x"), false);
    assert.equal(await store.remove("nobody@example.org", ROSTER, "item"), false);
    assert.deepEqual(jids(await store.get(owner, ROSTER)), ["b@x"]);
    assert.equal(await store.remove(owner, ROSTER, "item"), true);
    assert.deepEqual((await store.get(owner, ROSTER))?.children, []);
  });

  add("refuses a bad match and an owner without host", async (kv) => {
    const store = new XdbStore(kv);
    await assert.rejects(store.remove("a@x", ROSTER, "?jid=a"), /needs an element name/);
    await assert.rejects(store.insert("a@x", ROSTER, item("b@x"), "item?jid"), /attr=value/);
    await assert.rejects(store.get("alice@", ROSTER), /has no host/);
  });

  add("a list of 3000 items (far over 64 KiB) round-trips in order", async (kv) => {
    const store = new XdbStore(kv);
    const owner = "alice@example.org";
    const roster = xml("query", { xmlns: ROSTER });
    for (let i = 0; i < 3000; i++) roster.append(item(`contact${i}@example.net`, "x".repeat(150)));
    assert.ok(roster.toString().length > 3 * 65536);
    await store.set(owner, ROSTER, roster);
    const got = await store.get(owner, ROSTER);
    assert.equal(got?.elements.length, 3000);
    assert.deepEqual(jids(got), jids(roster));
    // Shrinking it deletes the other 2999 items' keys.
    await store.set(owner, ROSTER, xml("query", { xmlns: ROSTER }, item("only@x")));
    assert.deepEqual(jids(await store.get(owner, ROSTER)), ["only@x"]);
    const keys = await keysUnder(kv, ["xdb", "example.org", "alice", ROSTER]);
    assert.equal(keys.length, 2);
    await store.set(owner, ROSTER, roster);
    await store.set(owner, ROSTER, undefined);
    assert.deepEqual(await keysUnder(kv, ["xdb", "example.org", "alice", ROSTER]), []);
  });

  add("3000 offline messages appended one by one stay in order", async (kv) => {
    const store = new XdbStore(kv);
    const owner = "bob@example.org";
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 3000; i++) {
      writes.push(
        store.insert(owner, OFFLINE, xml("message", { id: `m${i}` }, "hello ".repeat(5))),
      );
    }
    await Promise.all(writes);
    const got = await store.get(owner, OFFLINE);
    const ids = got?.elements.map((message) => message.attrs.id);
    assert.deepEqual(ids, Array.from({ length: 3000 }, (_, i) => `m${i}`));
  });

  add("a child near and over 64 KiB is split into chunks and joined again", async (kv) => {
    const store = new XdbStore(kv);
    const owner = "alice@example.org";
    const near = xml("PHOTO", {}, xml("BINVAL", {}, "A".repeat(65_500)));
    const wide = xml("NOTE", {}, "\u4e2d".repeat(40_000));
    const huge = xml("BIG", {}, "b".repeat(1_200_000));
    await store.set(owner, "vcard-temp", xml("vCard", { xmlns: "vcard-temp" }, near, wide));
    let got = await store.get(owner, "vcard-temp");
    assert.equal(got?.getChild("PHOTO")?.getChildText("BINVAL"), "A".repeat(65_500));
    assert.equal(got?.getChildText("NOTE"), "\u4e2d".repeat(40_000));
    await store.insert(owner, "vcard-temp", huge);
    got = await store.get(owner, "vcard-temp");
    assert.equal(got?.getChildText("BIG")?.length, 1_200_000);
    // Replacing the big items with small ones removes their extra chunks.
    await store.insert(owner, "vcard-temp", xml("PHOTO", {}, "small"), "PHOTO");
    await store.insert(owner, "vcard-temp", xml("BIG", {}, "small"), "BIG");
    got = await store.get(owner, "vcard-temp");
    assert.deepEqual(got?.elements.map((e) => e.name), ["PHOTO", "NOTE", "BIG"]);
    assert.equal(got?.getChildText("PHOTO"), "small");
    assert.equal(got?.getChildText("BIG"), "small");
    // The shell, PHOTO, NOTE (two chunks: 40,000 wide characters) and BIG.
    const keys = await keysUnder(kv, ["xdb", "example.org", "alice", "vcard-temp"]);
    assert.equal(keys.length, 1 + 1 + 2 + 1);
  });

  add("refuses an item over maxItemUnits with a clear error", async (kv) => {
    const store = new XdbStore(kv, { maxItemUnits: 1000 });
    await assert.rejects(
      store.insert("a@x", "ns", xml("big", {}, "z".repeat(2000))),
      /XDB item <big> is \d+ characters stored, over the limit of 1000/,
    );
  });

  add("concurrent inserts on one element all land, in call order", async (kv) => {
    const store = new XdbStore(kv);
    const owner = "alice@example.org";
    const writes = [];
    for (let i = 0; i < 200; i++) writes.push(store.insert(owner, ROSTER, item(`c${i}@x`)));
    // Some replace by match while the appends are still queued.
    writes.push(store.insert(owner, ROSTER, item("c5@x", "five"), "item?jid=c5@x"));
    writes.push(store.remove(owner, ROSTER, "item?jid=c7@x"));
    await Promise.all(writes);
    const got = await store.get(owner, ROSTER);
    const expected = Array.from({ length: 200 }, (_, i) => `c${i}@x`).filter((j) => j !== "c7@x");
    assert.deepEqual(jids(got), expected);
    assert.equal(got?.elements[5].attrs.name, "five");
  });

  add("two stores writing one element concurrently both land (check and retry)", async (kv) => {
    const one = new XdbStore(kv, { maxBatch: 3 });
    const two = new XdbStore(kv, { maxBatch: 3 });
    const owner = "alice@example.org";
    const writes = [];
    for (let i = 0; i < 30; i++) {
      writes.push(one.insert(owner, ROSTER, item(`one${i}@x`)));
      writes.push(two.insert(owner, ROSTER, item(`two${i}@x`)));
    }
    await Promise.all(writes);
    const got = jids(await one.get(owner, ROSTER));
    assert.equal(got.length, 60);
    for (const prefix of ["one", "two"]) {
      const expected = Array.from({ length: 30 }, (_, i) => `${prefix}${i}@x`);
      assert.deepEqual(got.filter((jid) => jid.startsWith(prefix)), expected);
    }
  });

  add("writes in one tick are merged into few commits", async (kv) => {
    const counting = new CountingKv(kv);
    const store = new XdbStore(counting);
    const writes = [];
    for (let i = 0; i < 50; i++) {
      writes.push(store.insert(`user${i}@example.org`, OFFLINE, xml("message", { id: `${i}` })));
      writes.push(store.insert(`user${i}@example.org`, OFFLINE, xml("message", { id: `b${i}` })));
    }
    await Promise.all(writes);
    // 100 writes on 50 elements: one commit (single writes would take 100).
    assert.equal(counting.commits, 1);
    for (const i of [0, 25, 49]) {
      const got = await store.get(`user${i}@example.org`, OFFLINE);
      assert.deepEqual(got?.elements.map((m) => m.attrs.id), [`${i}`, `b${i}`]);
    }
    // More elements than one atomic may check (90) take more commits, still far fewer than 200.
    counting.commits = 0;
    const more = [];
    for (let i = 0; i < 200; i++) {
      more.push(store.set(`many${i}@example.org`, "ns", xml("x", { xmlns: "ns", i: `${i}` })));
    }
    await Promise.all(more);
    assert.ok(counting.commits >= 3 && counting.commits <= 5, `${counting.commits} commits`);
    assert.equal((await store.get("many199@example.org", "ns"))?.attrs.i, "199");
  });

  add("a write whose commit throws fails alone; the rest of its batch lands", async (kv) => {
    const counting = new CountingKv(kv);
    counting.poison = "POISON";
    const store = new XdbStore(counting);
    const good1 = store.insert("a@example.org", OFFLINE, xml("message", {}, "fine"));
    const bad = store.insert("b@example.org", OFFLINE, xml("message", {}, "POISON"));
    const good2 = store.insert("c@example.org", OFFLINE, xml("message", {}, "fine too"));
    await good1;
    await assert.rejects(bad, /Poisoned commit/);
    await good2;
    assert.equal((await store.get("a@example.org", OFFLINE))?.elements.length, 1);
    assert.equal(await store.get("b@example.org", OFFLINE), undefined);
    assert.equal((await store.get("c@example.org", OFFLINE))?.elements.length, 1);
  });

  add("get() after an unawaited write sees it; flush() waits for queued writes", async (kv) => {
    const store = new XdbStore(kv);
    const write = store.set("alice@example.org", "ns", xml("v", { xmlns: "ns" }, "1"));
    assert.equal((await store.get("alice@example.org", "ns"))?.text(), "1");
    await write;
    const later = store.insert("alice@example.org", "ns", xml("more"));
    let settled = false;
    later.then(() => settled = true);
    await store.flush();
    assert.equal(settled, true);
  });

  // --- keyed logs (an archive: XEP-0313 in src/mam/) ---
  const LOG = "urn:xmpp:mam:2";
  const logItem = (n: number, peer = "bob@example.org") =>
    xml("m", { with: peer }, xml("body", {}, `message ${n}`));
  const keyOf = (n: number) => String(n).padStart(4, "0");
  const append = (store: XdbStore, owner: string, n: number, peer?: string) =>
    store.append(LOG, [{ owner, key: keyOf(n), item: logItem(n, peer) }]);
  const keysOf = (result: { items: { key: string }[] }) => result.items.map((i) => i.key);

  add("range() reads a keyed log by key range, limit and in reverse", async (kv) => {
    const store = new XdbStore(kv);
    await Promise.all(
      [5, 1, 3, 2, 4].map((n) => append(store, "alice@example.org", n)),
    );
    const all = await store.range("alice@example.org", LOG);
    assert.deepEqual(keysOf(all), ["0001", "0002", "0003", "0004", "0005"]);
    assert.equal(all.items[2].item.getChildText("body"), "message 3");
    assert.deepEqual(keysOf(await store.range("alice@example.org", LOG, { start: "0002" })), [
      "0002",
      "0003",
      "0004",
      "0005",
    ]);
    assert.deepEqual(
      keysOf(await store.range("alice@example.org", LOG, { start: "0002", end: "0004" })),
      ["0002", "0003"],
    );
    assert.deepEqual(
      keysOf(await store.range("alice@example.org", LOG, { end: "0004", reverse: true, limit: 2 })),
      ["0003", "0002"],
    );
    assert.deepEqual(
      keysOf(await store.range("alice@example.org", LOG, { start: "9", end: "1" })),
      [],
    );
    // The log is not the element of owner+ns, and another owner's log is another log.
    assert.equal(await store.get("alice@example.org", LOG), undefined);
    assert.deepEqual(keysOf(await store.range("carol@example.org", LOG)), []);
  });

  add("range() filters by match and counts beyond the limit", async (kv) => {
    const store = new XdbStore(kv);
    for (let n = 1; n <= 30; n++) {
      void append(store, "alice@example.org", n, n % 3 ? "bob@x" : "eve@x");
    }
    const result = await store.range("alice@example.org", LOG, {
      match: xdbMatch("m", { with: "eve@x" }),
      limit: 4,
      count: true,
    });
    assert.deepEqual(keysOf(result), ["0003", "0006", "0009", "0012"]);
    assert.equal(result.count, 10);
  });

  add("append() batches the appends of one tick into one commit", async (kv) => {
    const counting = new CountingKv(kv);
    const store = new XdbStore(counting);
    const writes = [];
    for (let n = 0; n < 300; n++) {
      writes.push(append(store, `u${n % 7}@example.org`, n));
    }
    await Promise.all(writes);
    assert.equal(counting.commits, 1);
    assert.equal((await store.range("u0@example.org", LOG)).items.length, 43);
  });

  add(
    "append() refuses all when an item is larger than one KV value or a key is empty",
    async (kv) => {
      const store = new XdbStore(kv);
      const big = xml("m", {}, xml("body", {}, "x".repeat(40_000)));
      const owner = "alice@example.org";
      await assert.rejects(
        store.append(LOG, [{ owner, key: "0002", item: logItem(2) }, {
          owner,
          key: "0001",
          item: big,
        }]),
        /over one KV value/,
      );
      await assert.rejects(store.append(LOG, [{ owner, key: "", item: logItem(1) }]), /key/);
      assert.deepEqual(keysOf(await store.range("alice@example.org", LOG)), []);
    },
  );

  add("trim() deletes a key range of a log and answers how many", async (kv) => {
    const store = new XdbStore(kv);
    for (let n = 1; n <= 1500; n++) void append(store, "alice@example.org", n);
    assert.equal(await store.trim("alice@example.org", LOG, { end: "1001" }), 1000);
    const rest = await store.range("alice@example.org", LOG, { count: true, limit: 1 });
    assert.deepEqual([keysOf(rest), rest.count], [["1001"], 500]);
  });

  if (options.durable) {
    add("acknowledged writes survive close and reopen", async (kv, key) => {
      const store = new XdbStore(kv);
      const roster = xml("query", { xmlns: ROSTER });
      for (let i = 0; i < 1200; i++) roster.append(item(`c${i}@x`));
      await store.set("alice@example.org", ROSTER, roster);
      const pending = [];
      for (let i = 0; i < 20; i++) {
        pending.push(store.insert("bob@example.org", OFFLINE, xml("message", { id: `${i}` })));
      }
      await store.close();
      await Promise.all(pending);
      const reopened = await openKv(key);
      try {
        const again = new XdbStore(reopened);
        assert.deepEqual(jids(await again.get("alice@example.org", ROSTER)), jids(roster));
        assert.equal((await again.get("bob@example.org", OFFLINE))?.elements.length, 20);
      } finally {
        reopened.close();
      }
    });
  }

  return cases;
}
