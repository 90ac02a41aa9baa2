import assert from "node:assert/strict";
import type { ValidationContext } from "../../server/module_api.ts";
import { type Element, xml } from "../../xml/element.ts";
import { testServer, waitFor } from "../../server/_testing.ts";
import { kvModule } from "./kv.ts";
import { XdbStore } from "./store.ts";

const HOST = "example.org";
const ROSTER = "jabber:iq:roster";

/** A server whose only section is `<xdb>` for HOST with `<kv>` at `path`. */
function kvWorld(path = ":memory:") {
  return testServer(`<jabberd><xdb id="xdb"><host>${HOST}</host><kv>${path}</kv></xdb></jabberd>`);
}

function problemsOf(element: Element): string[] {
  const problems: string[] = [];
  const context: ValidationContext = {
    problem: (_at, message) => problems.push(message),
    warning: () => {},
  };
  kvModule.validate!(element, context);
  return problems;
}

Deno.test("<kv> answers append, range and trim of keyed logs through api.xdb", async () => {
  const world = await kvWorld();
  try {
    const LOG = "urn:xmpp:mam:2";
    const entry = (owner: string, key: string) => ({
      owner: `${owner}@${HOST}`,
      key,
      item: xml("m", { with: key < "3" ? "bob@x" : "eve@x" }, xml("body", {}, key)),
    });
    await world.xdb.append(HOST, LOG, ["1", "2", "3", "4"].map((key) => entry("alice", key)));
    await world.xdb.append(HOST, LOG, [entry("bob", "9")]);
    const page = await world.xdb.range(`alice@${HOST}`, LOG, {
      start: "2",
      reverse: true,
      limit: 2,
      count: true,
    });
    assert.deepEqual(page.items.map((i) => i.item.getChildText("body")), ["4", "3"]);
    assert.equal(page.count, 3);
    const bobs = await world.xdb.range(`alice@${HOST}`, LOG, { match: "m?with=bob@x" });
    assert.deepEqual(bobs.items.map((i) => i.key), ["1", "2"]);
    assert.equal(await world.xdb.trim(`alice@${HOST}`, LOG, { end: "3" }), 2);
    assert.deepEqual((await world.xdb.range(`alice@${HOST}`, LOG, {})).items.map((i) => i.key), [
      "3",
      "4",
    ]);
    assert.equal((await world.xdb.range(`bob@${HOST}`, LOG, {})).items.length, 1);
    // An append for owners of another host than the request's is refused as a whole.
    await assert.rejects(
      world.xdb.append(HOST, LOG, [entry("alice", "5"), { ...entry("x", "6"), owner: "x@other" }]),
      /another host/,
    );
    assert.equal((await world.xdb.range(`alice@${HOST}`, LOG, {})).items.length, 2);
  } finally {
    await world.stop();
  }
});

Deno.test("<kv> answers set, insert, remove and get through api.xdb", async () => {
  const world = await kvWorld();
  try {
    const owner = `alice@${HOST}`;
    await world.xdb.set(
      owner,
      ROSTER,
      xml("query", { xmlns: ROSTER }, xml("item", { jid: "a@x" })),
    );
    await world.xdb.insert(owner, ROSTER, xml("item", { jid: "b@x" }));
    await world.xdb.insert(owner, ROSTER, xml("item", { jid: "a@x", name: "A" }), "item?jid=a@x");
    await world.xdb.insert(owner, ROSTER, xml("item", { jid: "c@x" }));
    await world.xdb.remove(owner, ROSTER, "item?jid=b@x");
    const got = await world.xdb.get(owner, ROSTER);
    assert.deepEqual(got?.elements.map((e) => [e.attrs.jid, e.attrs.name]), [
      ["a@x", "A"],
      ["c@x", undefined],
    ]);
    assert.equal(await world.xdb.get(`bob@${HOST}`, ROSTER), undefined);
    await world.xdb.set(owner, ROSTER, undefined);
    assert.equal(await world.xdb.get(owner, ROSTER), undefined);
  } finally {
    await world.stop();
  }
});

Deno.test("<kv> replies with to/from swapped, the same id and ns, type result", async () => {
  const world = await kvWorld();
  try {
    const raw = world.collect("raw");
    const to = `alice@${HOST}/phone`;
    world.router.deliver(
      xml(
        "xdb",
        { type: "set", to, from: "raw", ns: "ns1", id: "w1" },
        xml("v", { xmlns: "ns1" }, "one"),
      ),
    );
    await waitFor(() => raw.length === 1, "the set's reply");
    world.router.deliver(xml("xdb", { type: "get", to, from: "raw", ns: "ns1", id: "g1" }));
    world.router.deliver(xml("xdb", { type: "get", to, from: "raw", ns: "ns2", id: "g2" }));
    await waitFor(() => raw.length === 3, "the gets' replies");
    const replies = raw.map((packet) => packet.element);
    assert.deepEqual(
      // Replies to different elements may come back in any order; the client matches by id.
      replies.map((r) => [r.attrs.id, r.attrs.type, r.attrs.to, r.attrs.from, r.attrs.ns])
        .sort((a, b) => a[0]!.localeCompare(b[0]!)),
      [
        ["g1", "result", "raw", to, "ns1"],
        ["g2", "result", "raw", to, "ns2"],
        ["w1", "result", "raw", to, "ns1"],
      ],
    );
    const reply = (id: string) => replies.find((r) => r.attrs.id === id)!;
    assert.equal(
      reply("g1").toString(),
      xml("xdb", reply("g1").attrs, xml("v", { xmlns: "ns1" }, "one")).toString(),
    );
    assert.equal(reply("g2").children.length, 0);
  } finally {
    await world.stop();
  }
});

Deno.test("<kv> answers a malformed request with type error and the reason", async () => {
  const world = await kvWorld();
  try {
    const raw = world.collect("raw");
    const send = async (attrs: Record<string, string>) => {
      const before = raw.length;
      world.router.deliver(
        xml("xdb", { type: "set", to: `a@${HOST}`, from: "raw", ns: "n", ...attrs }),
      );
      await waitFor(() => raw.length > before, `the reply to ${attrs.id}`);
    };
    await send({ id: "1", action: "insert" });
    await send({ id: "2", action: "remove", match: "?x" });
    await send({ id: "3", action: "merge" });
    const replies = raw.map((packet) => packet.element);
    assert.deepEqual(replies.map((r) => [r.attrs.id, r.attrs.type]), [
      ["1", "error"],
      ["2", "error"],
      ["3", "error"],
    ]);
    assert.match(replies[0].getChildText("error")!, /carries no item/);
    assert.match(replies[1].getChildText("error")!, /needs an element name/);
    assert.match(replies[2].getChildText("error")!, /unknown action "merge"/);
    await assert.rejects(world.xdb.remove(`a@${HOST}`, "n", "item?"), /XDB error: Match "item\?"/);
  } finally {
    await world.stop();
  }
});

Deno.test("<kv> stores in a file path relative to the config folder, durable after stop", async () => {
  const world = await kvWorld("data/xdb.sqlite3");
  await world.xdb.set(`alice@${HOST}`, "n", xml("v", { xmlns: "n" }, "kept"));
  // Not awaited: unloading must flush it before closing.
  const pending = world.xdb.insert(`alice@${HOST}`, "n", xml("more"));
  await world.stop();
  // Its requester stopped first, so the request itself fails; the write must be stored anyway.
  await pending.catch(() => {});
  assert.equal(await world.memory.files.exists("/etc/jabberd/data"), true);
  const store = new XdbStore(await world.memory.kv.open("/etc/jabberd/data/xdb.sqlite3"));
  const got = await store.get(`alice@${HOST}`, "n");
  assert.equal(got?.toString(), "<v xmlns='n'>kept<more/></v>");
});

Deno.test("<kv> validation reports a missing path, a folder, a bad URL and unknown attributes", () => {
  assert.deepEqual(problemsOf(xml("kv", {}, "./data/xdb.sqlite3")), []);
  assert.deepEqual(problemsOf(xml("kv", {}, ":memory:")), []);
  assert.deepEqual(problemsOf(xml("kv", {}, "https://api.deno.com/databases/x/connect")), []);
  assert.match(problemsOf(xml("kv"))[0], /needs a place to store/);
  assert.match(problemsOf(xml("kv", {}, "./data/"))[0], /must name a file/);
  assert.match(problemsOf(xml("kv", {}, "ftp://host/x"))[0], /cannot use "ftp:\/\/host\/x"/);
  assert.match(problemsOf(xml("kv", {}, xml("path")))[0], /takes only text/);
  assert.match(problemsOf(xml("kv", { cache: "yes" }, ":memory:"))[0], /no attribute "cache"/);
});

Deno.test("<kv> validation takes a postgres:// URL and connections for it only", () => {
  const url = "postgres://jabberd:secret@db.example.org:5432/jabberd";
  assert.deepEqual(problemsOf(xml("kv", { connections: "20" }, url)), []);
  assert.deepEqual(problemsOf(xml("kv", {}, "postgresql://db/jabberd?max=5")), []);
  assert.match(problemsOf(xml("kv", {}, "postgres://db/jabberd?max=many"))[0], /max=many/);
  assert.match(problemsOf(xml("kv", { connections: "0" }, url))[0], /connections/);
  assert.match(
    problemsOf(xml("kv", { connections: "4" }, ":memory:"))[0],
    /pool size of a postgres:\/\/ store/,
  );
});
