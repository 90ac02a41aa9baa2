/**
 * A get of several namespaces in one `<xdb>` request (src/tree/ROUTING.md "xdb", `action="many"`):
 * the store's batch read, `<kv>`'s answer, `<ns>` sections that split the namespaces, and
 * `<cache>` answering a login's credentials read with one request.
 */
import assert from "node:assert/strict";
import { MemoryKvAdapter, MemoryKvStore } from "../../adapters/memory/kv.ts";
import { testServer } from "../../server/_testing.ts";
import type { XdbRequests } from "../../server/xdb_client.ts";
import { xml } from "../../xml/element.ts";
import { XdbStore } from "./store.ts";

const HOST = "example.org";
const ALICE = `alice@${HOST}`;
const CREDENTIALS = xml(
  "credentials",
  { xmlns: "jabberd:credentials" },
  xml("scram", { hash: "SHA-1" }),
);
const LOGIN = ["jabberd:credentials", "jabber:iq:roster", "jabber:x:offline", "urn:xmpp:blocking"];

/** Counts the KV reads of every memory store while `fn` runs. */
async function countingKvReads<T>(
  fn: () => Promise<T>,
): Promise<{ result: T; get: number; getMany: number; list: number }> {
  const proto = MemoryKvStore.prototype;
  const { get, getMany, list } = proto;
  const counts = { get: 0, getMany: 0, list: 0 };
  proto.get = function (this: MemoryKvStore, ...args: Parameters<typeof get>) {
    counts.get++;
    return get.apply(this, args);
  } as typeof get;
  proto.getMany = function (this: MemoryKvStore, ...args: Parameters<typeof getMany>) {
    counts.getMany++;
    return getMany.apply(this, args);
  } as typeof getMany;
  proto.list = function (this: MemoryKvStore, ...args: Parameters<typeof list>) {
    counts.list++;
    return list.apply(this, args);
  } as typeof list;
  try {
    return { result: await fn(), ...counts };
  } finally {
    Object.assign(proto, { get, getMany, list });
  }
}

Deno.test("XdbStore.getMany reads an owner with little data in ONE list of the owner's keys, in the order asked", async () => {
  const store = new XdbStore(await new MemoryKvAdapter().open("/x.kv"));
  try {
    await store.set(ALICE, "jabberd:credentials", CREDENTIALS);
    await store.set(
      ALICE,
      "vcard-temp",
      xml("vCard", { xmlns: "vcard-temp", note: "no children" }),
    );
    await store.set(ALICE, "urn:test:other", xml("o", { xmlns: "urn:test:other" }, "not asked"));
    await store.set(`bob@${HOST}`, "vcard-temp", xml("vCard", { xmlns: "vcard-temp" }, "bob's"));
    const namespaces = [...LOGIN, "vcard-temp"];
    const { result, get, getMany, list } = await countingKvReads(() =>
      store.getMany(ALICE, namespaces)
    );
    assert.deepEqual(result.map((e) => e?.toString()), [
      CREDENTIALS.toString(),
      undefined,
      undefined,
      undefined,
      `<vCard xmlns='vcard-temp' note='no children'/>`,
    ]);
    assert.deepEqual({ get, getMany, list }, { get: 0, getMany: 0, list: 1 });
    // The same as one get each.
    for (const [i, ns] of namespaces.entries()) {
      assert.equal((await store.get(ALICE, ns))?.toString(), result[i]?.toString());
    }
  } finally {
    await store.close();
  }
});

Deno.test("XdbStore.getMany of an owner with more data than one list batch reads the shells with getMany (ten keys per call) and lists only elements with items", async () => {
  const store = new XdbStore(await new MemoryKvAdapter().open("/x.kv"));
  try {
    const roster = xml("query", { xmlns: "jabber:iq:roster" });
    for (let i = 0; i < 120; i++) roster.append(xml("item", { jid: `c${i}@x` }));
    await store.set(ALICE, "jabber:iq:roster", roster);
    await store.set(ALICE, "jabberd:credentials", CREDENTIALS);
    await store.set(ALICE, "urn:test:17", xml("v", { xmlns: "urn:test:17", note: "no items" }));
    const namespaces = [
      ...Array.from({ length: 21 }, (_, i) => `urn:test:${i}`),
      "jabberd:credentials",
      "jabber:iq:roster",
    ];
    const { result, get, getMany, list } = await countingKvReads(() =>
      store.getMany(ALICE, namespaces)
    );
    // One list that found too much, 3 getMany for 23 shells, a list each for two with items
    // (the roster's, longer than a batch, checks its shell again with a get, as a single get does).
    assert.deepEqual({ get, getMany, list }, { get: 1, getMany: 3, list: 3 });
    assert.equal(result.length, 23);
    assert.equal(result[17]?.toString(), `<v xmlns='urn:test:17' note='no items'/>`);
    assert.equal(result[21]?.toString(), CREDENTIALS.toString());
    assert.equal(result[22]?.getChildren("item").length, 120);
    assert.equal(result.filter((e) => e !== undefined).length, 3);
  } finally {
    await store.close();
  }
});

Deno.test("XdbStore.getMany waits for writes queued before it (read-your-writes)", async () => {
  const store = new XdbStore(await new MemoryKvAdapter().open("/x.kv"));
  try {
    const write = store.set(
      ALICE,
      "jabber:iq:roster",
      xml("query", { xmlns: "jabber:iq:roster" }, xml("item", { jid: "b@x" })),
    );
    const [roster] = await store.getMany(ALICE, ["jabber:iq:roster", "vcard-temp"]);
    await write;
    assert.equal(roster?.getChildren("item").length, 1);
  } finally {
    await store.close();
  }
});

Deno.test('<kv> answers a get of several namespaces (action="many") with one <data ns> each, in the order asked; single gets keep working', async () => {
  const world = await testServer(
    `<jabberd><xdb id='xdb'><host>${HOST}</host><kv>xdb.sqlite3</kv></xdb></jabberd>`,
  );
  try {
    await world.xdb.set(ALICE, "vcard-temp", xml("vCard", { xmlns: "vcard-temp" }, "card"));
    const raw = world.collect("raw");
    const replies = () => raw.map((p) => p.element);
    world.router.deliver(
      xml("xdb", {
        type: "get",
        action: "many",
        to: `${ALICE}/res`,
        from: "raw",
        ns: "vcard-temp jabber:iq:roster",
        id: "m1",
      }),
    );
    await world.settle(20);
    assert.equal(
      replies().at(-1)?.toString(),
      `<xdb type='result' to='raw' from='${ALICE}/res' id='m1' ns='vcard-temp jabber:iq:roster'>` +
        `<data ns='vcard-temp'><vCard xmlns='vcard-temp'>card</vCard></data><data ns='jabber:iq:roster'/></xdb>`,
    );
    const client = world.xdb as XdbRequests;
    const got = await client.getMany(ALICE, ["jabber:iq:roster", "vcard-temp"]);
    assert.deepEqual(got.map((e) => e?.text()), [undefined, "card"]);
    assert.equal((await world.xdb.get(ALICE, "vcard-temp"))?.text(), "card", "a single get");
    // A malformed list is refused with the reason.
    for (const [id, ns] of [["m2", " "], ["m3", "a a"]]) {
      world.router.deliver(
        xml("xdb", { type: "get", action: "many", to: ALICE, from: "raw", ns, id }),
      );
    }
    await world.settle(20);
    const errors = replies().filter((e) => e.attrs.type === "error").map((e) =>
      e.getChildText("error")
    );
    assert.match(errors[0] ?? "", /names none/);
    assert.match(errors[1] ?? "", /names one twice/);
  } finally {
    await world.stop();
  }
});

Deno.test("<ns> takes a get of several namespaces when it stores all of them, skips it when it stores none, and refuses one it stores only some of; the client then reads each alone", async () => {
  const world = await testServer(
    `<jabberd>
      <xdb id='xdb-offline'><host>${HOST}</host><ns>jabber:x:offline</ns><ns>urn:test:o</ns><kv>offline.sqlite3</kv></xdb>
      <xdb id='xdb'><host>${HOST}</host><kv>xdb.sqlite3</kv></xdb>
    </jabberd>`,
  );
  try {
    const offline = new XdbStore(await world.memory.kv.open("/etc/jabberd/offline.sqlite3"));
    const main = new XdbStore(await world.memory.kv.open("/etc/jabberd/xdb.sqlite3"));
    await offline.set(
      ALICE,
      "jabber:x:offline",
      xml("offline", { xmlns: "jabber:x:offline" }, "queued"),
    );
    await offline.set(ALICE, "urn:test:o", xml("o", { xmlns: "urn:test:o" }, "o"));
    await main.set(
      ALICE,
      "jabber:x:offline",
      xml("offline", { xmlns: "jabber:x:offline" }, "wrong place"),
    );
    await main.set(ALICE, "vcard-temp", xml("vCard", { xmlns: "vcard-temp" }, "card"));
    const raw = world.collect("raw");
    const replies = () => raw.map((p) => p.element);
    const ask = (id: string, ns: string) =>
      world.router.deliver(
        xml("xdb", { type: "get", action: "many", to: ALICE, from: "raw", ns, id }),
      );
    ask("all", "jabber:x:offline urn:test:o");
    ask("none", "vcard-temp jabber:iq:roster");
    ask("some", "jabber:x:offline vcard-temp");
    await world.settle(20);
    const reply = (id: string) => replies().find((e) => e.attrs.id === id);
    assert.deepEqual(reply("all")?.elements.map((d) => d.elements[0]?.text()), ["queued", "o"]);
    assert.deepEqual(reply("none")?.elements.map((d) => d.elements[0]?.text()), [
      "card",
      undefined,
    ]);
    assert.equal(reply("some")?.attrs.type, "error");
    assert.match(reply("some")?.getChildText("error") ?? "", /stored by different sections/);
    const client = world.xdb as XdbRequests;
    const got = await client.getMany(ALICE, ["jabber:x:offline", "vcard-temp"]);
    assert.deepEqual(got.map((e) => e?.text()), ["queued", "card"], "each from its own section");
    await Promise.all([offline.close(), main.close()]);
  } finally {
    await world.stop();
  }
});

Deno.test("<cache> answers a login's credentials read with ONE XDB request for the credentials and the sm's login data, read with one getMany", async () => {
  const world = await testServer(
    `<jabberd><xdb id='xdb'><host>${HOST}</host><cache/><kv>xdb.sqlite3</kv></xdb></jabberd>`,
  );
  try {
    const backDoor = new XdbStore(await world.memory.kv.open("/etc/jabberd/xdb.sqlite3"));
    await backDoor.set(
      ALICE,
      "jabberd:credentials",
      xml("credentials", { xmlns: "jabberd:credentials" }, xml("scram", { hash: "SHA-1" })),
    );
    await backDoor.set(
      ALICE,
      "urn:xmpp:blocking",
      xml("blocklist", { xmlns: "urn:xmpp:blocking" }, xml("item", { jid: "spam@x" })),
    );
    const c2s = world.collect("c2s");
    const requests: string[] = [];
    const proto = XdbStore.prototype;
    const { get, getMany } = proto;
    proto.get = function (owner, ns) {
      requests.push(`get ${ns}`);
      return get.call(this, owner, ns);
    };
    proto.getMany = function (owner, namespaces) {
      requests.push(`getMany ${namespaces.join(" ")}`);
      return getMany.call(this, owner, namespaces);
    };
    try {
      const { getMany: kvGetMany, list, get: kvGet } = await countingKvReads(async () => {
        world.router.deliver(
          xml("xdb", { type: "get", to: ALICE, from: "c2s", ns: "jabberd:credentials", id: "1" }),
        );
        await world.settle(20);
      });
      assert.equal(
        c2s.at(-1)?.element.toString(),
        `<xdb type='result' to='c2s' from='${ALICE}' id='1' ns='jabberd:credentials'>` +
          `<credentials xmlns='jabberd:credentials'><scram hash='SHA-1'/></credentials></xdb>`,
      );
      assert.deepEqual(requests, [
        "getMany jabberd:credentials jabber:iq:roster jabber:x:offline urn:xmpp:blocking vcard-temp urn:xmpp:mam:2",
      ]);
      // One list of alice's keys.
      assert.deepEqual({ kvGet, kvGetMany, list }, { kvGet: 0, kvGetMany: 0, list: 1 });
      // The session manager's reads that follow are answered by the cache.
      for (const ns of LOGIN.slice(1)) await world.xdb.get(ALICE, ns);
      assert.equal(requests.length, 1, "no further read reached the store");
      assert.equal(
        (await world.xdb.get(ALICE, "urn:xmpp:blocking"))?.getChildren("item").length,
        1,
      );
    } finally {
      Object.assign(proto, { get, getMany });
    }
    await backDoor.close();
  } finally {
    await world.stop();
  }
});

Deno.test("<cache> answers a get of several namespaces from memory when all are cached", async () => {
  const world = await testServer(
    `<jabberd><xdb id='xdb'><host>${HOST}</host><cache/><kv>xdb.sqlite3</kv></xdb></jabberd>`,
  );
  try {
    const client = world.xdb as XdbRequests;
    await world.xdb.set(ALICE, "vcard-temp", xml("vCard", { xmlns: "vcard-temp" }, "one"));
    assert.deepEqual(
      (await client.getMany(ALICE, ["vcard-temp", "urn:test:n"])).map((e) => e?.text()),
      ["one", undefined],
    );
    const backDoor = new XdbStore(await world.memory.kv.open("/etc/jabberd/xdb.sqlite3"));
    await backDoor.set(ALICE, "vcard-temp", xml("vCard", { xmlns: "vcard-temp" }, "two"));
    await backDoor.close();
    const { getMany, list, get } = await countingKvReads(() =>
      client.getMany(ALICE, ["vcard-temp", "urn:test:n"])
    );
    assert.deepEqual({ get, getMany, list }, { get: 0, getMany: 0, list: 0 });
    // Served from the cache: the back door's write is not seen until the entry expires.
    assert.equal((await client.getMany(ALICE, ["vcard-temp", "urn:test:n"]))[0]?.text(), "one");
  } finally {
    await world.stop();
  }
});
