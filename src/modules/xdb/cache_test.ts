import assert from "node:assert/strict";
import type { ValidationContext } from "../../server/module_api.ts";
import { type Element, xml } from "../../xml/element.ts";
import { testServer, waitFor } from "../../server/_testing.ts";
import { cacheModule, LruMap } from "./cache.ts";
import { XdbStore } from "./store.ts";

const HOST = "example.org";
const PATH = "/etc/jabberd/xdb.sqlite3";

function problemsOf(element: Element): { problems: string[]; warnings: string[] } {
  const problems: string[] = [];
  const warnings: string[] = [];
  const context: ValidationContext = {
    problem: (_at, message) => problems.push(message),
    warning: (_at, message) => warnings.push(message),
  };
  cacheModule.validate!(element, context);
  return { problems, warnings };
}

/** A world with `<cache>` and `<kv>`, and a back door writing the KV without the section. */
async function cachedWorld(cache: string) {
  const world = await testServer(
    `<jabberd><xdb id="xdb"><host>${HOST}</host>${cache}<kv>xdb.sqlite3</kv></xdb></jabberd>`,
  );
  const backDoor = new XdbStore(await world.memory.kv.open(PATH));
  const text = async (owner: string) => (await world.xdb.get(owner, "n"))?.text();
  return Object.assign(world, { backDoor, text });
}

Deno.test("<cache> answers a repeated get from memory until the timeout", async () => {
  const world = await cachedWorld(`<cache timeout="30s"/>`);
  try {
    const owner = `alice@${HOST}`;
    await world.backDoor.set(owner, "n", xml("v", { xmlns: "n" }, "one"));
    assert.equal(await world.text(owner), "one");
    await world.backDoor.set(owner, "n", xml("v", { xmlns: "n" }, "two"));
    assert.equal(await world.text(owner), "one", "served from the cache");
    world.memory.clock.advance(29_000);
    assert.equal(await world.text(owner), "one");
    world.memory.clock.advance(1_000);
    assert.equal(await world.text(owner), "two", "expired, read again");
    // "Nothing stored" is cached too.
    assert.equal(await world.text(`bob@${HOST}`), undefined);
    await world.backDoor.set(`bob@${HOST}`, "n", xml("v", { xmlns: "n" }, "b"));
    assert.equal(await world.text(`bob@${HOST}`), undefined);
  } finally {
    await world.stop();
  }
});

Deno.test("<cache> answers with the request's id, swapped addresses and its own copy", async () => {
  const world = await cachedWorld(`<cache/>`);
  try {
    const to = `alice@${HOST}`;
    await world.backDoor.set(to, "n", xml("v", { xmlns: "n" }, "one"));
    const raw = world.collect("raw");
    for (const id of ["first", "second"]) {
      world.router.deliver(xml("xdb", { type: "get", to, from: "raw", ns: "n", id }));
      await waitFor(() => raw.some((packet) => packet.element.attrs.id === id), `reply ${id}`);
    }
    const replies = raw.map((packet) => packet.element);
    assert.deepEqual(
      replies.map((r) => [r.attrs.id, r.attrs.type, r.attrs.to, r.attrs.from]),
      [
        ["first", "result", "raw", to],
        ["second", "result", "raw", to],
      ],
    );
    // A receiver changing its copy does not change the cached one.
    replies[1].elements[0].t(" changed");
    assert.equal(await world.text(to), "one");
  } finally {
    await world.stop();
  }
});

Deno.test("<cache> drops an entry on insert and remove, and keeps a committed set", async () => {
  const world = await cachedWorld(`<cache timeout="1h"/>`);
  try {
    const owner = `alice@${HOST}`;
    await world.xdb.set(owner, "n", xml("v", { xmlns: "n" }, "one"));
    assert.equal(await world.text(owner), "one", "the set itself was cached");
    await world.backDoor.set(owner, "n", xml("v", { xmlns: "n" }, "behind"));
    assert.equal(await world.text(owner), "one");
    await world.xdb.insert(owner, "n", xml("item", { id: "1" }));
    assert.equal(
      (await world.xdb.get(owner, "n"))?.toString(),
      "<v xmlns='n'>behind<item id='1'/></v>",
    );
    await world.xdb.remove(owner, "n", "item?id=1");
    assert.equal((await world.xdb.get(owner, "n"))?.elements.length, 0);
    await world.xdb.set(owner, "n", undefined);
    assert.equal(await world.xdb.get(owner, "n"), undefined);
  } finally {
    await world.stop();
  }
});

Deno.test("<cache max> forgets the least recently used entries", async () => {
  const world = await cachedWorld(`<cache max="2"/>`);
  try {
    const owners = ["a", "b", "c"].map((user) => `${user}@${HOST}`);
    for (const owner of owners) await world.backDoor.set(owner, "n", xml("v", {}, "old"));
    for (const owner of owners.slice(0, 2)) assert.equal(await world.text(owner), "old");
    assert.equal(await world.text(owners[0]), "old"); // a is now more recent than b
    assert.equal(await world.text(owners[2]), "old"); // c pushes out b
    for (const owner of owners) await world.backDoor.set(owner, "n", xml("v", {}, "new"));
    // Read the cached ones first: reading b again caches it and pushes one of them out.
    assert.equal(await world.text(owners[2]), "old");
    assert.equal(await world.text(owners[0]), "old");
    assert.equal(await world.text(owners[1]), "new");
  } finally {
    await world.stop();
  }
});

Deno.test("LruMap evicts the least recently used entry and reports it", () => {
  const lru = new LruMap<number>(2);
  assert.equal(lru.set("a", 1), undefined);
  lru.set("b", 2);
  lru.get("a");
  assert.deepEqual(lru.set("c", 3), ["b", 2]);
  assert.equal(lru.get("b"), undefined);
  assert.equal(lru.size, 2);
});

Deno.test("<cache> validation reports unknown settings, bad durations and bad sizes", () => {
  assert.deepEqual(problemsOf(xml("cache", { timeout: "5m", max: "100" })).problems, []);
  assert.deepEqual(problemsOf(xml("cache", {}, xml("timeout", {}, "10s"))).problems, []);
  assert.match(problemsOf(xml("cache", { ttl: "5m" })).problems[0], /no attribute "ttl"/);
  assert.match(problemsOf(xml("cache", {}, xml("size"))).problems[0], /no setting <size>/);
  assert.match(problemsOf(xml("cache", { timeout: "30" })).problems[0], /needs a unit/);
  assert.match(problemsOf(xml("cache", { timeout: "5 parsecs" })).problems[0], /timeout/);
  assert.match(problemsOf(xml("cache", { max: "lots" })).problems[0], /max/);
  assert.match(problemsOf(xml("cache", { max: "0" })).problems[0], /1 or more/);
  assert.match(problemsOf(xml("cache", { timeout: "0s" })).warnings[0], /caches nothing/);
});

Deno.test("<cache> reads a login's roster, offline messages, blocklist and vCard when c2s reads its credentials", async () => {
  const world = await cachedWorld(`<cache/>`);
  try {
    const alice = `alice@${HOST}`;
    const bob = `bob@${HOST}`;
    for (const owner of [alice, bob]) {
      await world.backDoor.set(
        owner,
        "jabber:iq:roster",
        xml("query", { xmlns: "jabber:iq:roster" }, "before"),
      );
    }
    world.collect("c2s");
    world.collect("sm");
    const roster = (owner: string) => world.xdb.get(owner, "jabber:iq:roster");
    // c2s authenticates alice: her login data is read into the cache at once.
    world.router.deliver(
      xml("xdb", { type: "get", to: alice, from: "c2s", ns: "jabberd:credentials", id: "1" }),
    );
    await world.settle(20);
    await world.backDoor.set(
      alice,
      "jabber:iq:roster",
      xml("query", { xmlns: "jabber:iq:roster" }, "after"),
    );
    assert.equal((await roster(alice))?.text(), "before", "served from the prefetched copy");
    // A section that reads roster data (the sm checking that bob exists) starts no prefetch.
    world.router.deliver(
      xml("xdb", { type: "get", to: bob, from: "sm", ns: "jabber:iq:roster", id: "2" }),
    );
    await world.backDoor.set(
      bob,
      "jabber:iq:roster",
      xml("query", { xmlns: "jabber:iq:roster" }, "mid"),
    );
    world.memory.clock.advance(60_000);
    world.router.deliver(
      xml("xdb", { type: "get", to: bob, from: "sm", ns: "jabberd:credentials", id: "3" }),
    );
    await world.settle(20);
    await world.backDoor.set(
      bob,
      "jabber:iq:roster",
      xml("query", { xmlns: "jabber:iq:roster" }, "after"),
    );
    assert.equal((await roster(bob))?.text(), "after", "not prefetched");
    assert.deepEqual(world.logLines(), []);
  } finally {
    await world.stop();
  }
});

Deno.test('<cache prefetch="false"> reads nothing ahead of a login', async () => {
  const world = await cachedWorld(`<cache prefetch="false"/>`);
  try {
    const alice = `alice@${HOST}`;
    world.collect("c2s");
    await world.backDoor.set(alice, "vcard-temp", xml("vCard", { xmlns: "vcard-temp" }, "before"));
    world.router.deliver(
      xml("xdb", { type: "get", to: alice, from: "c2s", ns: "jabberd:credentials", id: "1" }),
    );
    await world.settle(20);
    await world.backDoor.set(alice, "vcard-temp", xml("vCard", { xmlns: "vcard-temp" }, "after"));
    assert.equal((await world.xdb.get(alice, "vcard-temp"))?.text(), "after");
  } finally {
    await world.stop();
  }
});

Deno.test("<cache> hands every reader of the credentials, blocklist and vCard a new root over the cached children, and copies other data", async () => {
  const world = await cachedWorld(`<cache/>`);
  try {
    const owner = `alice@${HOST}`;
    const roster = xml("query", { xmlns: "jabber:iq:roster" }, xml("item", { jid: "b@x" }));
    // Rosters are kept only until read (test below).
    const shared = ["jabberd:credentials", "urn:xmpp:blocking", "vcard-temp"];
    for (const ns of shared) await world.backDoor.set(owner, ns, roster);
    await world.backDoor.set(owner, "n", xml("v", { xmlns: "n" }, xml("w")));
    // "sm" reads first, so the credentials read below is no login (no prefetch).
    for (const ns of [...shared, "n"]) await world.xdb.get(owner, ns);
    for (const ns of shared) {
      const [first, second] = [await world.xdb.get(owner, ns), await world.xdb.get(owner, ns)];
      assert.equal(first!.children, second!.children, `${ns}: the cached children, not a copy`);
      // The cached element never becomes a child of a reply (which it would then keep alive).
      assert.notEqual(first, second);
      assert.equal(first!.elements[0].parent?.parent, undefined, `${ns}: the cached root is free`);
      assert.equal(first!.toString(), roster.toString());
    }
    const [one, two] = [await world.xdb.get(owner, "n"), await world.xdb.get(owner, "n")];
    assert.notEqual(one!.elements[0], two!.elements[0], "other data is copied for each reader");
  } finally {
    await world.stop();
  }
});

Deno.test("<cache> keeps a roster only when read ahead for a login, and only until the first get takes it", async () => {
  const world = await cachedWorld(`<cache/>`);
  try {
    const alice = `alice@${HOST}`;
    const bob = `bob@${HOST}`;
    const query = (text: string) => xml("query", { xmlns: "jabber:iq:roster" }, text);
    const roster = (owner: string) => world.xdb.get(owner, "jabber:iq:roster");
    for (const owner of [alice, bob]) {
      await world.backDoor.set(owner, "jabberd:credentials", xml("credentials"));
      await world.backDoor.set(owner, "jabber:iq:roster", query("stored"));
    }
    world.collect("c2s");
    // c2s authenticates alice: her roster is read ahead and kept for the sm's first get.
    world.router.deliver(
      xml("xdb", { type: "get", to: alice, from: "c2s", ns: "jabberd:credentials", id: "1" }),
    );
    await world.settle(20);
    await world.backDoor.set(alice, "jabber:iq:roster", query("changed behind"));
    assert.equal((await roster(alice))?.text(), "stored", "the first get takes the read-ahead");
    assert.equal((await roster(alice))?.text(), "changed behind", "then it is forgotten");
    // A roster read that is no read-ahead (a probe to bob offline) is not kept.
    assert.equal((await roster(bob))?.text(), "stored");
    await world.backDoor.set(bob, "jabber:iq:roster", query("changed behind"));
    assert.equal((await roster(bob))?.text(), "changed behind", "read from the store again");
    // A committed set of a roster is not kept either.
    await world.xdb.set(bob, "jabber:iq:roster", query("set"));
    await world.backDoor.set(bob, "jabber:iq:roster", query("changed behind again"));
    assert.equal((await roster(bob))?.text(), "changed behind again");
    assert.deepEqual(world.logLines(), []);
  } finally {
    await world.stop();
  }
});
