/** Tests of the muc#owner queries: the configuration form, persistence in XDB, destruction. */
import assert from "node:assert/strict";
import {
  NS_DATA_FORMS,
  NS_DISCO_INFO,
  NS_DISCO_ITEMS,
  NS_MUC_OWNER,
  NS_MUC_ROOM,
  NS_MUC_USER,
} from "../../util/ns.ts";
import { codes, condition, item, mucTester, ROOM } from "./_testing.ts";

const ALICE = "alice@localhost/phone";
const BOB = "bob@localhost/laptop";

function owner(from: string, inner: string, type = "set") {
  return `<iq type="${type}" id="o1" from="${from}" to="${ROOM}"><query xmlns="${NS_MUC_OWNER}">${inner}</query></iq>`;
}

Deno.test("ownerGet() sends the muc#roomconfig form to owners only", async () => {
  await using muc = await mucTester();
  await muc.create(ALICE, "Alice", { "muc#roomconfig_roomname": "Cauldron" });
  await muc.send(owner(ALICE, "", "get"));
  const x = muc.take(ALICE)[0].getChild("query", NS_MUC_OWNER)?.getChild("x", NS_DATA_FORMS);
  assert.equal(x?.attrs.type, "form");
  const fields = new Map(
    x!.getChildren("field").map((f) => [f.attrs.var, f.getChildText("value")]),
  );
  assert.equal(fields.get("FORM_TYPE"), "http://jabber.org/protocol/muc#roomconfig");
  assert.equal(fields.get("muc#roomconfig_roomname"), "Cauldron");
  assert.equal(fields.get("muc#roomconfig_persistentroom"), "0");
  for (
    const name of ["membersonly", "moderatedroom", "passwordprotectedroom", "roomsecret", "whois"]
  ) {
    assert.ok(fields.has(`muc#roomconfig_${name}`), name);
  }
  await muc.join(BOB, "Bob");
  await muc.send(owner(BOB, "", "get"));
  assert.equal(condition(muc.take(BOB)[0]), "forbidden");
});

Deno.test("ownerSet() applies a submitted form and tells the occupants with 104", async () => {
  await using muc = await mucTester();
  await muc.create(ALICE, "Alice");
  await muc.join(BOB, "Bob");
  muc.take(ALICE);
  await muc.send(owner(
    ALICE,
    `<x xmlns="${NS_DATA_FORMS}" type="submit"><field var="muc#roomconfig_moderatedroom"><value>1</value></field></x>`,
  ));
  const [notice] = muc.take(BOB);
  assert.equal(notice.attrs.from, ROOM);
  assert.deepEqual(codes(notice), [104]);
  await muc.send(`<iq type="get" id="d" from="${BOB}" to="${ROOM}">
    <query xmlns="http://jabber.org/protocol/disco#info"/></iq>`);
  const features = muc.take(BOB)[0].getChild("query", NS_DISCO_INFO)!.getChildren(
    "feature",
    NS_DISCO_INFO,
  ).map((f) => f.attrs.var);
  assert.ok(features.includes("muc_moderated"));
  assert.ok(features.includes("muc_temporary"));
});

Deno.test("ownerSet() with a cancelled form destroys a room still locked", async () => {
  await using muc = await mucTester();
  await muc.join(ALICE, "Alice");
  await muc.send(owner(ALICE, `<x xmlns="${NS_DATA_FORMS}" type="cancel"/>`));
  const got = muc.take(ALICE);
  assert.equal(got[0].attrs.type, "unavailable");
  assert.equal(got.at(-1)?.attrs.type, "result");
  // Gone: entering makes a new room.
  assert.deepEqual(codes((await muc.join(BOB, "Bob"))[0]), [110, 201]);
});

Deno.test("ownerSet() destroys a room: occupants get <destroy> with the alternate venue", async () => {
  await using muc = await mucTester();
  await muc.create(ALICE, "Alice", { "muc#roomconfig_persistentroom": "1" });
  await muc.join(BOB, "Bob");
  await muc.send(owner(
    ALICE,
    `<destroy jid="new@conference.localhost"><reason>moved</reason></destroy>`,
  ));
  const [gone] = muc.take(BOB);
  assert.equal(gone.attrs.type, "unavailable");
  const destroy = gone.getChild("x", NS_MUC_USER)?.getChild("destroy");
  assert.equal(destroy?.attrs.jid, "new@conference.localhost");
  assert.equal(destroy?.getChildText("reason"), "moved");
  assert.deepEqual(item(gone), { affiliation: "none", role: "none" });
  assert.equal(await muc.world.xdb.get(ROOM, NS_MUC_ROOM), undefined);
  await muc.send(owner(BOB, "", "get"));
  assert.equal(condition(muc.take(BOB)[0]), "item-not-found");
});

Deno.test("ownerSet() keeps a persistent room's configuration, affiliations and subject across a restart", async () => {
  await using muc = await mucTester();
  await muc.create(ALICE, "Alice", {
    "muc#roomconfig_persistentroom": "1",
    "muc#roomconfig_membersonly": "1",
    "muc#roomconfig_roomname": "Cauldron",
  });
  await muc.send(`<iq type="set" id="m" from="${ALICE}" to="${ROOM}">
    <query xmlns="http://jabber.org/protocol/muc#admin"><item affiliation="member" jid="bob@localhost"/></query></iq>`);
  await muc.send(
    `<message from="${ALICE}" to="${ROOM}" type="groupchat"><subject>Potions</subject></message>`,
  );
  // Everyone leaves: a persistent room stays.
  await muc.send(`<presence from="${ALICE}" to="${ROOM}/Alice" type="unavailable"/>`);
  await muc.world.restart();
  muc.inbox.length = 0;
  assert.equal(condition((await muc.join("eve@localhost/x", "Eve"))[0]), "registration-required");
  const got = await muc.join(BOB, "Bob");
  assert.deepEqual(item(got[0]), { affiliation: "member", role: "participant", jid: BOB });
  assert.equal(got.at(-1)?.getChildText("subject"), "Potions");
  await muc.send(`<iq type="get" id="d" from="${BOB}" to="conference.localhost">
    <query xmlns="http://jabber.org/protocol/disco#items"/></iq>`);
  const items = muc.take(BOB)[0].getChild("query", NS_DISCO_ITEMS)!.getChildren(
    "item",
    NS_DISCO_ITEMS,
  ).map((i) => i.attrs);
  assert.deepEqual(items, [{ jid: ROOM, name: "Cauldron" }]);
  // Made temporary again, it leaves storage.
  await muc.send(owner(
    ALICE,
    `<x xmlns="${NS_DATA_FORMS}" type="submit"><field var="muc#roomconfig_persistentroom"><value>0</value></field></x>`,
  ));
  assert.equal(muc.take(ALICE).at(-1)?.attrs.type, "result");
  assert.equal(await muc.world.xdb.get(ROOM, NS_MUC_ROOM), undefined);
});
