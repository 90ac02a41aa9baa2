/** Tests of the muc#admin queries: kick, ban, voice, moderator, affiliation changes and lists. */
import assert from "node:assert/strict";
import { NS_MUC_ADMIN, NS_MUC_USER } from "../../util/ns.ts";
import { codes, condition, item, mucTester, ROOM } from "./_testing.ts";

const ALICE = "alice@localhost/phone";
const BOB = "bob@localhost/laptop";
const CAROL = "carol@localhost/pc";

function admin(from: string, items: string, type = "set", id = "a1") {
  return `<iq type="${type}" id="${id}" from="${from}" to="${ROOM}"><query xmlns="${NS_MUC_ADMIN}">${items}</query></iq>`;
}

async function threeInRoom(fields: Record<string, string> = {}) {
  const muc = await mucTester();
  await muc.create(ALICE, "Alice", fields);
  await muc.join(BOB, "Bob");
  await muc.join(CAROL, "Carol");
  muc.take(ALICE);
  muc.take(BOB);
  return muc;
}

Deno.test("adminSet() kicks an occupant with 307, the actor and the reason", async () => {
  await using muc = await threeInRoom();
  await muc.send(admin(ALICE, `<item nick="Bob" role="none"><reason>spam</reason></item>`));
  const alice = muc.take(ALICE);
  assert.equal(alice.at(-1)?.attrs.type, "result");
  const kicked = alice.find((s) => s.is("presence"))!;
  assert.equal(kicked.attrs.type, "unavailable");
  assert.deepEqual(codes(kicked), [307]);
  const [own] = muc.take(BOB);
  assert.deepEqual(codes(own), [110, 307]);
  const x = own.getChild("x", NS_MUC_USER)!.getChild("item", NS_MUC_USER)!;
  assert.equal(x.attrs.role, "none");
  assert.equal(x.getChild("actor")?.attrs.nick, "Alice");
  assert.equal(x.getChildText("reason"), "spam");
  assert.deepEqual(codes(muc.take(CAROL)[0]), [307]);
  // Bob is out: he may enter again, a kick is not a ban.
  const again = await muc.join(BOB, "Bob");
  assert.deepEqual(codes(again.find((s) => s.attrs.from === `${ROOM}/Bob`)), [110]);
});

Deno.test("adminSet() refuses a kick from a participant and of an owner", async () => {
  await using muc = await threeInRoom();
  await muc.send(admin(BOB, `<item nick="Carol" role="none"/>`));
  assert.equal(condition(muc.take(BOB)[0]), "forbidden");
  await muc.send(admin(ALICE, `<item affiliation="admin" jid="bob@localhost"/>`));
  muc.take(ALICE);
  muc.take(BOB);
  muc.take(CAROL);
  // Bob, now an admin and a moderator, may not kick Alice, an owner.
  await muc.send(admin(BOB, `<item nick="Alice" role="none"/>`));
  assert.equal(condition(muc.take(BOB)[0]), "not-allowed");
  await muc.send(admin(BOB, `<item nick="Carol" role="none"/>`));
  assert.equal(muc.take(BOB).at(-1)?.attrs.type, "result");
});

Deno.test("adminSet() bans with 301, and the outcast may not enter again", async () => {
  await using muc = await threeInRoom();
  await muc.send(admin(ALICE, `<item affiliation="outcast" jid="bob@localhost"/>`));
  const [own] = muc.take(BOB);
  assert.equal(own.attrs.type, "unavailable");
  assert.deepEqual(codes(own), [110, 301]);
  assert.equal(item(own).affiliation, "outcast");
  assert.deepEqual(codes(muc.take(CAROL)[0]), [301]);
  assert.equal(condition((await muc.join(BOB, "Bob"))[0]), "forbidden");
  await muc.send(admin(ALICE, `<item affiliation="outcast"/>`, "get", "list"));
  const list = muc.take(ALICE).at(-1)!;
  assert.deepEqual(
    list.getChild("query", NS_MUC_ADMIN)!.getChildren("item", NS_MUC_ADMIN).map((i) => i.attrs),
    [{ affiliation: "outcast", jid: "bob@localhost" }],
  );
});

Deno.test("adminSet() grants and revokes voice and moderator, broadcast to the room", async () => {
  await using muc = await threeInRoom();
  await muc.send(admin(ALICE, `<item nick="Bob" role="visitor"/>`));
  assert.equal(item(muc.take(CAROL)[0]).role, "visitor");
  assert.equal(item(muc.take(BOB)[0]).role, "visitor");
  await muc.send(admin(ALICE, `<item nick="Carol" role="moderator"/>`));
  assert.equal(item(muc.take(CAROL)[0]).role, "moderator");
  muc.take(ALICE);
  muc.take(BOB);
  // Carol, a moderator but no admin, may not make moderators.
  await muc.send(admin(CAROL, `<item nick="Bob" role="moderator"/>`));
  assert.equal(condition(muc.take(CAROL)[0]), "forbidden");
  await muc.send(admin(CAROL, `<item role="moderator"/>`, "get", "roles"));
  const list = muc.take(CAROL)[0].getChild("query", NS_MUC_ADMIN)!.getChildren(
    "item",
    NS_MUC_ADMIN,
  );
  assert.deepEqual(list.map((i) => i.attrs.nick).sort(), ["Alice", "Carol"]);
  await muc.send(admin(BOB, `<item role="moderator"/>`, "get", "roles"));
  assert.equal(condition(muc.take(BOB)[0]), "forbidden");
});

Deno.test("adminSet() removes a member of a members-only room with 321", async () => {
  await using muc = await mucTester();
  await muc.create(ALICE, "Alice", { "muc#roomconfig_membersonly": "1" });
  await muc.send(admin(ALICE, `<item affiliation="member" jid="bob@localhost"/>`));
  await muc.join(BOB, "Bob");
  muc.take(ALICE);
  await muc.send(admin(ALICE, `<item affiliation="none" jid="bob@localhost"/>`));
  assert.deepEqual(codes(muc.take(BOB)[0]), [110, 321]);
});

Deno.test("adminSet() keeps one owner, lets only owners make admins, and changes nothing on a refusal", async () => {
  await using muc = await threeInRoom();
  await muc.send(admin(ALICE, `<item affiliation="none" jid="alice@localhost"/>`));
  assert.equal(condition(muc.take(ALICE)[0]), "conflict");
  await muc.send(admin(ALICE, `<item affiliation="admin" jid="bob@localhost"/>`));
  muc.take(ALICE);
  muc.take(BOB);
  muc.take(CAROL);
  await muc.send(
    admin(
      BOB,
      `<item affiliation="member" jid="dave@localhost"/><item affiliation="admin" jid="carol@localhost"/>`,
    ),
  );
  assert.equal(condition(muc.take(BOB)[0]), "not-allowed");
  await muc.send(admin(ALICE, `<item affiliation="member"/>`, "get", "members"));
  assert.equal(
    muc.take(ALICE)[0].getChild("query", NS_MUC_ADMIN)!.getChildren("item", NS_MUC_ADMIN).length,
    0,
  );
  await muc.send(admin(CAROL, `<item affiliation="member"/>`, "get", "members"));
  assert.equal(condition(muc.take(CAROL)[0]), "forbidden");
});

Deno.test("adminSet() lets a service admin own every room", async () => {
  await using muc = await mucTester(
    `<jabberd><service id="muc"><host>conference.localhost</host>
      <muc xmlns="jabberd:config:muc"><admin>carol@localhost</admin></muc></service>
      <xdb id="xdb"><host/><kv>data/muc.kv</kv></xdb></jabberd>`,
  );
  await muc.create(ALICE, "Alice");
  await muc.join(BOB, "Bob");
  const got = await muc.join(CAROL, "Carol");
  assert.deepEqual(item(got.find((s) => s.attrs.from === `${ROOM}/Carol`)), {
    affiliation: "owner",
    role: "moderator",
    jid: CAROL,
  });
  await muc.send(admin(CAROL, `<item nick="Bob" role="none"/>`));
  assert.equal(muc.take(CAROL).at(-1)?.attrs.type, "result");
});
