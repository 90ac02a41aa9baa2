/** Tests of room archives (XEP-0313 §6.1) through the real MUC section and XDB. */
import assert from "node:assert/strict";
import { NS_DISCO_INFO, NS_MAM, NS_RSM, NS_SID } from "../../util/ns.ts";
import type { Element } from "../../xml/element.ts";
import { condition, mucTester, ROOM } from "./_testing.ts";

const ALICE = "alice@localhost/home";
const BOB = "bob@localhost/phone";
const EVE = "eve@localhost/x";
const PERSISTENT = { "muc#roomconfig_persistentroom": "1" };

const say = (from: string, body: string) =>
  `<message from="${from}" to="${ROOM}" type="groupchat"><body>${body}</body></message>`;

/** An archive query from `from` with an RSM `<set>` holding `rsm`. */
const query = (from: string, rsm = "", id = "q") =>
  `<iq type="set" id="${id}" from="${from}" to="${ROOM}"><query xmlns="${NS_MAM}" queryid="${id}">` +
  `<set xmlns="${NS_RSM}">${rsm}</set></query></iq>`;

/** The archived messages (as forwarded) and the `<fin>` of what `asker` got for a query. */
function answer(got: Element[]) {
  const results = got.filter((s) => s.is("message"));
  const iq = got.find((s) => s.is("iq"));
  assert.equal(iq?.attrs.type, "result", `the query failed: ${iq}`);
  for (const result of results) assert.equal(result.attrs.from, ROOM);
  const forwarded = results.map((m) => {
    const result = m.getChild("result", NS_MAM)!;
    const message = result.getChild("forwarded")!.getChild("message")!;
    assert.ok(result.getChild("forwarded")!.getChild("delay")?.attrs.stamp);
    return { id: result.attrs.id, from: message.attrs.from, body: message.getChildText("body") };
  });
  const set = iq.getChild("fin", NS_MAM)!.getChild("set", NS_RSM)!;
  return {
    forwarded,
    complete: iq.getChild("fin", NS_MAM)!.attrs.complete === "true",
    last: set.getChildText("last"),
    count: set.getChildText("count"),
  };
}

Deno.test("RoomArchives stores a persistent room's messages under the stanza-ids it broadcast", async () => {
  await using muc = await mucTester();
  await muc.create(ALICE, "Alice", PERSISTENT);
  await muc.join(BOB, "Bob");
  muc.take(ALICE);
  await muc.send(say(ALICE, "one"));
  await muc.send(say(BOB, "two"));
  const broadcast = muc.take(BOB).map((m) => m.getChild("stanza-id", NS_SID)!.attrs);
  assert.deepEqual(broadcast.map((sid) => sid.by), [ROOM, ROOM]);
  assert.notEqual(broadcast[0].id, broadcast[1].id);
  await muc.send(query(BOB));
  const { forwarded, complete, count } = answer(muc.take(BOB));
  assert.deepEqual(forwarded, [
    { id: broadcast[0].id, from: `${ROOM}/Alice`, body: "one" },
    { id: broadcast[1].id, from: `${ROOM}/Bob`, body: "two" },
  ]);
  assert.equal(complete, true);
  assert.equal(count, "2");
  // The room's disco#info says it archives.
  await muc.send(`<iq type="get" id="d" from="${BOB}" to="${ROOM}">
    <query xmlns="http://jabber.org/protocol/disco#info"/></iq>`);
  const features = muc.take(BOB)[0].getChild("query", NS_DISCO_INFO)!.getChildren(
    "feature",
    NS_DISCO_INFO,
  ).map((f) => f.attrs.var);
  assert.ok(features.includes(NS_MAM));
});

Deno.test("RoomArchives removes a stanza-id the sender forged with the room as by", async () => {
  await using muc = await mucTester();
  await muc.create(ALICE, "Alice", PERSISTENT);
  await muc.send(
    `<message from="${ALICE}" to="${ROOM}" type="groupchat"><body>x</body>` +
      `<stanza-id xmlns="${NS_SID}" by="${ROOM}" id="forged"/></message>`,
  );
  const ids = muc.take(ALICE)[0].getChildren("stanza-id", NS_SID).map((s) => s.attrs.id);
  assert.equal(ids.length, 1);
  assert.notEqual(ids[0], "forged");
});

Deno.test("RoomArchives pages the archive with RSM max and after", async () => {
  await using muc = await mucTester();
  await muc.create(ALICE, "Alice", PERSISTENT);
  for (const body of ["m1", "m2", "m3", "m4", "m5"]) await muc.send(say(ALICE, body));
  muc.take(ALICE);
  await muc.send(query(EVE, "<max>2</max>"));
  const first = answer(muc.take(EVE));
  assert.deepEqual(first.forwarded.map((f) => f.body), ["m1", "m2"]);
  assert.equal(first.complete, false);
  assert.equal(first.count, "5");
  await muc.send(query(EVE, `<max>2</max><after>${first.last}</after>`));
  const second = answer(muc.take(EVE));
  assert.deepEqual(second.forwarded.map((f) => f.body), ["m3", "m4"]);
  await muc.send(query(EVE, `<max>2</max><after>${second.last}</after>`));
  const third = answer(muc.take(EVE));
  assert.deepEqual(third.forwarded.map((f) => f.body), ["m5"]);
  assert.equal(third.complete, true);
  // The last page: an empty <before/>.
  await muc.send(query(EVE, "<max>2</max><before/>"));
  assert.deepEqual(answer(muc.take(EVE)).forwarded.map((f) => f.body), ["m4", "m5"]);
  // No filter by JID: the archive knows senders by their real JIDs.
  await muc.send(
    `<iq type="set" id="w" from="${EVE}" to="${ROOM}"><query xmlns="${NS_MAM}">` +
      `<x xmlns="jabber:x:data" type="submit"><field var="FORM_TYPE"><value>${NS_MAM}</value>` +
      `</field><field var="with"><value>alice@localhost</value></field></x></query></iq>`,
  );
  assert.equal(condition(muc.take(EVE)[0]), "feature-not-implemented");
});

Deno.test("RoomArchives refuses a non-member in a members-only room and a non-occupant of a hidden one", async () => {
  await using muc = await mucTester();
  await muc.create(ALICE, "Alice", { ...PERSISTENT, "muc#roomconfig_membersonly": "1" });
  await muc.send(say(ALICE, "secret"));
  muc.take(ALICE);
  await muc.send(query(EVE));
  assert.equal(condition(muc.take(EVE)[0]), "forbidden");
  await muc.send(`<iq type="set" id="m" from="${ALICE}" to="${ROOM}">
    <query xmlns="http://jabber.org/protocol/muc#admin"><item affiliation="member" jid="bob@localhost"/></query></iq>`);
  muc.take(ALICE);
  // A member who is not in the room may read it.
  await muc.send(query(BOB));
  assert.deepEqual(answer(muc.take(BOB)).forwarded.map((f) => f.body), ["secret"]);

  const hidden = `hidden@conference.localhost`;
  await muc.join(ALICE, "Alice", hidden);
  await muc.send(`<iq type="set" id="c" from="${ALICE}" to="${hidden}">
    <query xmlns="http://jabber.org/protocol/muc#owner"><x xmlns="jabber:x:data" type="submit">
    <field var="muc#roomconfig_persistentroom"><value>1</value></field>
    <field var="muc#roomconfig_publicroom"><value>0</value></field></x></query></iq>`);
  muc.take(ALICE);
  await muc.send(
    `<iq type="set" id="h" from="${EVE}" to="${hidden}"><query xmlns="${NS_MAM}"/></iq>`,
  );
  assert.equal(condition(muc.take(EVE)[0]), "forbidden");
});

Deno.test("RoomArchives keeps a persistent room's archive across a restart, and none for a temporary room", async () => {
  await using muc = await mucTester();
  await muc.create(ALICE, "Alice", PERSISTENT);
  await muc.send(say(ALICE, "before"));
  const id = muc.take(ALICE)[0].getChild("stanza-id", NS_SID)!.attrs.id;
  await muc.world.restart();
  muc.inbox.length = 0;
  await muc.send(query(BOB));
  assert.deepEqual(answer(muc.take(BOB)).forwarded, [
    { id, from: `${ROOM}/Alice`, body: "before" },
  ]);

  const temporary = `temp@conference.localhost`;
  await muc.create(ALICE, "Alice", {}, temporary);
  await muc.send(
    `<message from="${ALICE}" to="${temporary}" type="groupchat"><body>gone</body></message>`,
  );
  assert.equal(muc.take(ALICE)[0].getChild("stanza-id", NS_SID), undefined);
});

Deno.test("RoomArchives deletes a room's archive when the room is destroyed", async () => {
  await using muc = await mucTester();
  await muc.create(ALICE, "Alice", PERSISTENT);
  await muc.send(say(ALICE, "old"));
  await muc.send(`<iq type="set" id="x" from="${ALICE}" to="${ROOM}">
    <query xmlns="http://jabber.org/protocol/muc#owner"><destroy/></query></iq>`);
  assert.equal(muc.take(ALICE).at(-1)?.attrs.type, "result");
  await muc.create(ALICE, "Alice", PERSISTENT);
  await muc.send(query(ALICE));
  const { forwarded, count } = answer(muc.take(ALICE));
  assert.deepEqual(forwarded, []);
  assert.equal(count, "0");
});

Deno.test("muc-component 1: a persistent room read again after a restart gives the history on entering from its archive", async () => {
  await using muc = await mucTester();
  await muc.create(ALICE, "Alice", PERSISTENT);
  for (const body of ["one", "two", "three"]) await muc.send(say(ALICE, body));
  const ids = muc.take(ALICE).map((m) => m.getChild("stanza-id", NS_SID)!.attrs.id);
  await muc.world.restart();
  muc.inbox.length = 0;
  const joined = await muc.join(BOB, "Bob", ROOM, `<history maxstanzas="2"/>`);
  const history = joined.filter((s) => s.is("message") && s.getChild("body"));
  assert.deepEqual(history.map((m) => m.getChildText("body")), ["two", "three"]);
  assert.deepEqual(history.map((m) => m.attrs.from), [`${ROOM}/Alice`, `${ROOM}/Alice`]);
  assert.deepEqual(history.map((m) => m.getChild("stanza-id", NS_SID)?.attrs.id), ids.slice(1));
  for (const message of history) {
    assert.equal(message.getChildren("stanza-id").length, 1, message.toString());
    assert.ok(message.getChild("delay", "urn:xmpp:delay")?.attrs.stamp, message.toString());
  }
});
