/** Tests of messages in rooms: groupchat, history on entering, subject, private messages, invitations. */
import assert from "node:assert/strict";
import { NS_DELAY, NS_MUC_USER } from "../../util/ns.ts";
import { condition, mucTester, ROOM } from "./_testing.ts";

const ALICE = "alice@localhost/phone";
const BOB = "bob@localhost/laptop";
const CAROL = "carol@localhost/pc";

function say(from: string, body: string, id = body) {
  return `<message from="${from}" to="${ROOM}" type="groupchat" id="${id}"><body>${body}</body></message>`;
}

Deno.test("messageToRoom() reflects a groupchat message to every occupant from the sender's nick", async () => {
  await using muc = await mucTester();
  await muc.create(ALICE, "Alice");
  await muc.join(BOB, "Bob");
  muc.take(ALICE);
  await muc.send(say(BOB, "hello all", "m1"));
  for (const user of [ALICE, BOB]) {
    const [message] = muc.take(user);
    assert.equal(message.attrs.from, `${ROOM}/Bob`);
    assert.equal(message.attrs.type, "groupchat");
    assert.equal(message.attrs.id, "m1"); // the sender recognizes its own (§7.4)
    assert.equal(message.getChildText("body"), "hello all");
  }
});

Deno.test("messageToRoom() sends history on entering with an XEP-0203 delay, cut by <history>", async () => {
  await using muc = await mucTester();
  await muc.create(ALICE, "Alice");
  for (let i = 1; i <= 4; i++) {
    await muc.send(say(ALICE, `m${i}`));
    muc.world.memory.clock.advance(60_000);
  }
  muc.take(ALICE);
  const all = await muc.join(BOB, "Bob");
  // Presence of Alice, own presence, four messages, the subject.
  assert.deepEqual(all.slice(2, 6).map((m) => m.getChildText("body")), ["m1", "m2", "m3", "m4"]);
  const delay = all[2].getChild("delay", NS_DELAY);
  assert.equal(delay?.attrs.from, ROOM);
  assert.match(delay?.attrs.stamp ?? "", /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(all[6].getChildText("subject"), "");
  const two = await muc.join(CAROL, "Carol", ROOM, `<history maxstanzas="2"/>`);
  assert.deepEqual(two.slice(3, 5).map((m) => m.getChildText("body")), ["m3", "m4"]);
  await muc.send(`<presence from="${CAROL}" to="${ROOM}/Carol" type="unavailable"/>`);
  muc.take(CAROL);
  const none = await muc.join(CAROL, "Carol", ROOM, `<history maxchars="0"/>`);
  assert.equal(none.filter((m) => m.getChild("body")).length, 0);
  await muc.send(`<presence from="${CAROL}" to="${ROOM}/Carol" type="unavailable"/>`);
  muc.take(CAROL);
  // The last message was sent 60 s ago, the one before 120 s ago.
  const recent = await muc.join(CAROL, "Carol", ROOM, `<history seconds="90"/>`);
  assert.deepEqual(recent.filter((m) => m.getChild("body")).map((m) => m.getChildText("body")), [
    "m4",
  ]);
});

Deno.test("messageToRoom() keeps visitors of a moderated room silent until given voice", async () => {
  await using muc = await mucTester();
  await muc.create(ALICE, "Alice", { "muc#roomconfig_moderatedroom": "1" });
  await muc.join(BOB, "Bob");
  await muc.send(say(BOB, "may I?"));
  assert.equal(condition(muc.take(BOB)[0]), "forbidden");
  muc.take(ALICE);
  await muc.send(`<iq type="set" id="v" from="${ALICE}" to="${ROOM}">
    <query xmlns="http://jabber.org/protocol/muc#admin"><item nick="Bob" role="participant"/></query></iq>`);
  muc.take(ALICE);
  muc.take(BOB);
  await muc.send(say(BOB, "thanks"));
  assert.equal(muc.take(ALICE)[0].getChildText("body"), "thanks");
});

Deno.test("messageToRoom() lets moderators set the subject, sent to later occupants", async () => {
  await using muc = await mucTester();
  await muc.create(ALICE, "Alice");
  await muc.join(BOB, "Bob");
  await muc.send(
    `<message from="${BOB}" to="${ROOM}" type="groupchat"><subject>mine</subject></message>`,
  );
  assert.equal(condition(muc.take(BOB)[0]), "forbidden");
  muc.take(ALICE);
  await muc.send(
    `<message from="${ALICE}" to="${ROOM}" type="groupchat"><subject>Cauldron</subject></message>`,
  );
  assert.equal(muc.take(BOB)[0].getChildText("subject"), "Cauldron");
  const got = await muc.join(CAROL, "Carol");
  const subject = got.at(-1)!;
  assert.equal(subject.attrs.from, `${ROOM}/Alice`);
  assert.equal(subject.getChildText("subject"), "Cauldron");
});

Deno.test("messageToRoom() relays a private message to one occupant from the sender's nick", async () => {
  await using muc = await mucTester();
  await muc.create(ALICE, "Alice");
  await muc.join(BOB, "Bob");
  muc.take(ALICE);
  await muc.send(
    `<message from="${BOB}" to="${ROOM}/Alice" type="chat"><body>psst</body></message>`,
  );
  const [pm] = muc.take(ALICE);
  assert.equal(pm.attrs.from, `${ROOM}/Bob`);
  assert.equal(pm.getChildText("body"), "psst");
  assert.ok(pm.getChild("x", NS_MUC_USER));
  assert.equal(muc.take(BOB).length, 0);
  await muc.send(`<message from="${BOB}" to="${ROOM}/Nobody" type="chat"><body>?</body></message>`);
  assert.equal(condition(muc.take(BOB)[0]), "item-not-found");
  await muc.send(
    `<message from="${CAROL}" to="${ROOM}/Alice" type="chat"><body>?</body></message>`,
  );
  assert.equal(condition(muc.take(CAROL)[0]), "not-acceptable");
  await muc.send(
    `<message from="${BOB}" to="${ROOM}/Alice" type="groupchat"><body>?</body></message>`,
  );
  assert.equal(condition(muc.take(BOB)[0]), "bad-request");
});

Deno.test("messageToRoom() mediates an invitation, making the invitee a member of a members-only room", async () => {
  await using muc = await mucTester();
  await muc.create(ALICE, "Alice", {
    "muc#roomconfig_membersonly": "1",
    "muc#roomconfig_passwordprotectedroom": "1",
    "muc#roomconfig_roomsecret": "pw",
  });
  await muc.send(`<message from="${ALICE}" to="${ROOM}"><x xmlns="${NS_MUC_USER}">
    <invite to="bob@localhost"><reason>join us</reason></invite></x></message>`);
  const [invitation] = muc.take("bob@localhost");
  assert.equal(invitation.attrs.from, ROOM);
  const x = invitation.getChild("x", NS_MUC_USER);
  assert.equal(x?.getChild("invite")?.attrs.from, ALICE);
  assert.equal(x?.getChild("invite")?.getChildText("reason"), "join us");
  assert.equal(x?.getChildText("password"), "pw");
  const got = await muc.join(BOB, "Bob", ROOM, "<password>pw</password>");
  assert.equal(
    got[1].getChild("x", NS_MUC_USER)?.getChild("item", NS_MUC_USER)?.attrs.affiliation,
    "member",
  );
  muc.take(ALICE);
  // Carol declines an invitation from Alice: the room passes it back to her.
  await muc.send(`<message from="${CAROL}" to="${ROOM}"><x xmlns="${NS_MUC_USER}">
    <decline to="${ALICE}"><reason>busy</reason></decline></x></message>`);
  const [decline] = muc.take(ALICE);
  assert.equal(
    decline.getChild("x", NS_MUC_USER)?.getChild("decline")?.attrs.from,
    "carol@localhost",
  );
});

Deno.test("messageToRoom() refuses invitations from participants unless the room allows them", async () => {
  await using muc = await mucTester();
  await muc.create(ALICE, "Alice");
  await muc.join(BOB, "Bob");
  const invite = `<message from="${BOB}" to="${ROOM}"><x xmlns="${NS_MUC_USER}">
    <invite to="carol@localhost"/></x></message>`;
  await muc.send(invite);
  assert.equal(condition(muc.take(BOB)[0]), "forbidden");
  assert.equal(muc.take("carol@localhost").length, 0);
});

Deno.test("messageToRoom() answers item-not-found for a room that does not exist", async () => {
  await using muc = await mucTester();
  await muc.send(say(ALICE, "anyone?"));
  assert.equal(condition(muc.take(ALICE)[0]), "item-not-found");
});
