/** Tests of entering, changing nickname and exiting rooms (XEP-0045 §7.2–§7.6, §7.14, §10.1). */
import assert from "node:assert/strict";
import { codes, condition, item, mucTester, ROOM } from "./_testing.ts";

const ALICE = "alice@localhost/phone";
const BOB = "bob@localhost/laptop";
const CAROL = "carol@localhost/pc";

Deno.test("presenceToRoom() creates a locked room with status 201 and 110 for its first occupant", async () => {
  await using muc = await mucTester();
  const got = await muc.join(ALICE, "Alice");
  assert.equal(got.length, 2, got.join("\n"));
  assert.equal(got[0].attrs.from, `${ROOM}/Alice`);
  assert.deepEqual(codes(got[0]), [110, 201]);
  assert.deepEqual(item(got[0]), { affiliation: "owner", role: "moderator", jid: ALICE });
  // Then the (empty) subject, which ends the join.
  assert.equal(got[1].getChildText("subject"), "");
  // Locked until configured: nobody else may enter (§10.1.1).
  const refused = await muc.join(BOB, "Bob");
  assert.equal(refused[0].attrs.type, "error");
  assert.equal(condition(refused[0]), "item-not-found");
});

Deno.test("presenceToRoom() makes an instant room for a client without the MUC extension", async () => {
  await using muc = await mucTester();
  await muc.send(`<presence from="${ALICE}" to="${ROOM}/Alice"/>`);
  assert.deepEqual(codes(muc.take(ALICE)[0]), [110, 201]);
  const got = await muc.join(BOB, "Bob");
  assert.equal(got.length, 3, got.join("\n"));
});

Deno.test("presenceToRoom() sends the occupants first, then the own presence with 110, then the subject", async () => {
  await using muc = await mucTester();
  await muc.create(ALICE, "Alice");
  const got = await muc.join(BOB, "Bob");
  assert.deepEqual(got.map((s) => s.attrs.from), [`${ROOM}/Alice`, `${ROOM}/Bob`, ROOM]);
  // A semi-anonymous room: Bob, a participant, does not see Alice's JID.
  assert.deepEqual(item(got[0]), { affiliation: "owner", role: "moderator" });
  assert.deepEqual(item(got[1]), { affiliation: "none", role: "participant", jid: BOB });
  assert.deepEqual(codes(got[1]), [110]);
  assert.equal(got[2].attrs.type, "groupchat");
  // Alice, a moderator, sees Bob's JID.
  const told = muc.take(ALICE);
  assert.equal(told.length, 1);
  assert.deepEqual(item(told[0]), { affiliation: "none", role: "participant", jid: BOB });
  assert.deepEqual(codes(told[0]), []);
});

Deno.test("presenceToRoom() shows real JIDs to everyone and says 100 in a non-anonymous room", async () => {
  await using muc = await mucTester();
  await muc.create(ALICE, "Alice", { "muc#roomconfig_whois": "anyone" });
  const got = await muc.join(BOB, "Bob");
  assert.equal(item(got[0]).jid, ALICE);
  assert.deepEqual(codes(got[1]), [110, 100]);
});

Deno.test("presenceToRoom() refuses a nickname in use with conflict and one without a nickname", async () => {
  await using muc = await mucTester();
  await muc.create(ALICE, "Alice");
  const [conflict] = await muc.join(BOB, "Alice");
  assert.equal(conflict.attrs.type, "error");
  assert.equal(conflict.attrs.from, `${ROOM}/Alice`);
  assert.equal(condition(conflict), "conflict");
  await muc.send(`<presence from="${BOB}" to="${ROOM}"/>`);
  assert.equal(condition(muc.take(BOB)[0]), "jid-malformed");
  assert.equal(muc.take(ALICE).length, 0, "Alice heard of nobody");
});

Deno.test("presenceToRoom() changes a nickname with 303 from the old one, then the new one", async () => {
  await using muc = await mucTester();
  await muc.create(ALICE, "Alice");
  await muc.join(BOB, "Bob");
  await muc.join(CAROL, "Carol");
  muc.take(ALICE);
  muc.take(BOB);
  await muc.send(`<presence from="${BOB}" to="${ROOM}/Carol"/>`);
  assert.equal(condition(muc.take(BOB)[0]), "conflict");
  await muc.send(`<presence from="${BOB}" to="${ROOM}/Robert"/>`);
  const own = muc.take(BOB);
  assert.equal(own[0].attrs.type, "unavailable");
  assert.equal(own[0].attrs.from, `${ROOM}/Bob`);
  assert.equal(item(own[0]).nick, "Robert");
  assert.deepEqual(codes(own[0]), [110, 303]);
  assert.equal(own[1].attrs.from, `${ROOM}/Robert`);
  assert.deepEqual(codes(own[1]), [110]);
  assert.deepEqual(codes(muc.take(CAROL)[0]), [303]);
});

Deno.test("presenceToRoom() broadcasts a status change and an exit with the status text", async () => {
  await using muc = await mucTester();
  await muc.create(ALICE, "Alice");
  await muc.join(BOB, "Bob");
  muc.take(ALICE);
  await muc.send(`<presence from="${BOB}" to="${ROOM}/Bob"><show>away</show></presence>`);
  assert.equal(muc.take(ALICE)[0].getChildText("show"), "away");
  assert.deepEqual(codes(muc.take(BOB)[0]), [110]);
  await muc.send(
    `<presence from="${BOB}" to="${ROOM}/Bob" type="unavailable"><status>bye</status></presence>`,
  );
  const [gone] = muc.take(ALICE);
  assert.equal(gone.attrs.type, "unavailable");
  assert.equal(gone.getChildText("status"), "bye");
  assert.equal(item(gone).role, "none");
  assert.deepEqual(codes(muc.take(BOB)[0]), [110]);
  // Bob is gone: his message to the room is refused.
  await muc.send(`<message from="${BOB}" to="${ROOM}" type="groupchat"><body>hi</body></message>`);
  assert.equal(condition(muc.take(BOB)[0]), "not-acceptable");
});

Deno.test("presenceToRoom() forgets a temporary room when its last occupant leaves", async () => {
  await using muc = await mucTester();
  await muc.create(ALICE, "Alice");
  await muc.send(`<presence from="${ALICE}" to="${ROOM}/Alice" type="unavailable"/>`);
  muc.take(ALICE);
  // Entering again creates it anew.
  assert.deepEqual(codes((await muc.join(BOB, "Bob"))[0]), [110, 201]);
});

Deno.test("presenceToRoom() asks for the password of a protected room", async () => {
  await using muc = await mucTester();
  await muc.create(ALICE, "Alice", {
    "muc#roomconfig_passwordprotectedroom": "1",
    "muc#roomconfig_roomsecret": "cauldron",
  });
  assert.equal(condition((await muc.join(BOB, "Bob"))[0]), "not-authorized");
  assert.equal(
    condition((await muc.join(BOB, "Bob", ROOM, "<password>wrong</password>"))[0]),
    "not-authorized",
  );
  const got = await muc.join(BOB, "Bob", ROOM, "<password>cauldron</password>");
  assert.deepEqual(codes(got[1]), [110]);
});

Deno.test("presenceToRoom() lets only members into a members-only room", async () => {
  await using muc = await mucTester();
  await muc.create(ALICE, "Alice", { "muc#roomconfig_membersonly": "1" });
  assert.equal(condition((await muc.join(BOB, "Bob"))[0]), "registration-required");
  await muc.send(`<iq type="set" id="m" from="${ALICE}" to="${ROOM}">
    <query xmlns="http://jabber.org/protocol/muc#admin">
      <item affiliation="member" jid="bob@localhost"/></query></iq>`);
  assert.equal(muc.take(ALICE)[0].attrs.type, "result");
  const got = await muc.join(BOB, "Bob");
  assert.deepEqual(item(got[1]), { affiliation: "member", role: "participant", jid: BOB });
});

Deno.test("presenceToRoom() refuses entry to a full room with service-unavailable", async () => {
  await using muc = await mucTester();
  await muc.create(ALICE, "Alice", { "muc#roomconfig_maxusers": "1" });
  assert.equal(condition((await muc.join(BOB, "Bob"))[0]), "service-unavailable");
});

Deno.test("presenceToRoom() treats an error presence from an occupant as its exit", async () => {
  await using muc = await mucTester();
  await muc.create(ALICE, "Alice");
  await muc.join(BOB, "Bob");
  muc.take(ALICE);
  await muc.send(`<presence from="${BOB}" to="${ROOM}/Bob" type="error"/>`);
  assert.equal(muc.take(ALICE)[0].attrs.type, "unavailable");
});

Deno.test("presenceToRoom() sends the whole entering sequence again to an occupant that joins again", async () => {
  await using muc = await mucTester();
  await muc.create(ALICE, "Alice");
  await muc.join(BOB, "Bob");
  await muc.send(
    `<message from="${ALICE}" to="${ROOM}" type="groupchat"><body>earlier</body></message>`,
  );
  muc.take(ALICE);
  muc.take(BOB);
  // Bob's client reconnected and joins again, as if it had never been there.
  const again = await muc.join(BOB, "Bob");
  assert.deepEqual(again.map((s) => s.attrs.from), [
    `${ROOM}/Alice`,
    `${ROOM}/Bob`,
    `${ROOM}/Alice`,
    ROOM,
  ]);
  assert.deepEqual(codes(again[1]), [110]);
  assert.equal(again[2].getChildText("body"), "earlier");
  assert.equal(again[3].getChildText("subject"), "");
  // Alice sees only a presence update, not a second Bob.
  const told = muc.take(ALICE);
  assert.equal(told.length, 1);
  assert.equal(told[0].attrs.type, undefined);
});
