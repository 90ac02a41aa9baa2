import assert from "node:assert/strict";
import { privateXml } from "./private.ts";
import { smWorld } from "../_testing.ts";

const STORE = `<iq type="set" id="s1"><query xmlns="jabber:iq:private">` +
  `<storage xmlns="storage:bookmarks"><conference jid="room@muc.localhost"/></storage>` +
  `<prefs xmlns="example:prefs" color="blue"/></query></iq>`;

Deno.test("private stores elements by namespace and gives each back, or an empty one", async () => {
  const world = await smWorld({ features: [privateXml] });
  try {
    const alice = world.bind("alice@localhost/phone");
    await world.send(STORE, alice);
    assert.equal(world.take(alice)[0].attrs.type, "result");
    await world.send(
      `<iq type="get" id="g1"><query xmlns="jabber:iq:private"><storage xmlns="storage:bookmarks"/></query></iq>`,
      alice,
    );
    const [reply] = world.take(alice);
    const storage = reply.getChild("query", "jabber:iq:private")!.getChild(
      "storage",
      "storage:bookmarks",
    )!;
    assert.equal(storage.getChild("conference")!.attrs.jid, "room@muc.localhost");
    await world.send(
      `<iq type="set" id="s2"><query xmlns="jabber:iq:private"><prefs xmlns="example:prefs" color="red"/></query></iq>`,
      alice,
    );
    await world.send(
      `<iq type="get" id="g2"><query xmlns="jabber:iq:private"><prefs xmlns="example:prefs"/></query></iq>`,
      alice,
    );
    const prefs = world.take(alice)[1].getChild("query", "jabber:iq:private")!
      .getChild("prefs", "example:prefs")!;
    assert.equal(prefs.attrs.color, "red", "the newer element replaced the older");
    await world.send(
      `<iq type="get" id="g3"><query xmlns="jabber:iq:private"><none xmlns="example:none"/></query></iq>`,
      alice,
    );
    const empty = world.take(alice)[0].getChild("query", "jabber:iq:private")!
      .getChild("none", "example:none")!;
    assert.equal(empty.children.length, 0);
  } finally {
    await world.stop();
  }
});

Deno.test("private refuses reserved namespaces, other users, and a get of two elements", async () => {
  const world = await smWorld({ features: [privateXml] });
  try {
    const alice = world.bind("alice@localhost/phone");
    const bob = world.bind("bob@localhost/pc");
    await world.send(
      `<iq type="set" id="r1"><query xmlns="jabber:iq:private"><x xmlns="jabber:client"/></query></iq>`,
      alice,
    );
    await world.send(
      `<iq type="get" id="r2"><query xmlns="jabber:iq:private"><a xmlns="x:a"/><b xmlns="x:b"/></query></iq>`,
      alice,
    );
    const errors = world.take(alice).map((r) => r.getChild("error")!.elements[0].local);
    assert.deepEqual(errors, ["not-acceptable", "bad-request"]);
    await world.send(
      `<iq type="get" id="r3" to="alice@localhost"><query xmlns="jabber:iq:private"><a xmlns="x:a"/></query></iq>`,
      bob,
    );
    assert.equal(world.take(bob)[0].getChild("error")!.elements[0].local, "forbidden");
  } finally {
    await world.stop();
  }
});
