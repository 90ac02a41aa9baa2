/** Tests of the `<muc>` section as a whole: its settings, disco, self-ping, and running in a worker. */
import assert from "node:assert/strict";
import { loadConfigText } from "../../config/mod.ts";
import { builtinModules } from "../mod.ts";
import { NS_DISCO_INFO, NS_DISCO_ITEMS, NS_MUC, NS_PING } from "../../util/ns.ts";
import { codes, condition, item, mucConfig, mucTester, parse, ROOM, SERVICE } from "./_testing.ts";

const ALICE = "alice@localhost/phone";
const BOB = "bob@localhost/laptop";

async function problems(settings: string): Promise<string[]> {
  const { problems } = await loadConfigText(mucConfig(settings), "/etc/jabberd/jabberd.xml", {
    readTextFile: () => Promise.reject(new Error("no files")),
    env: () => undefined,
  }, builtinModules);
  return problems.map((p) => p.message);
}

Deno.test("mucModule.validate() accepts the documented settings and refuses wrong ones", async () => {
  assert.deepEqual(
    await problems(
      `<name>Rooms</name><history>50</history><create>admins</create><admin>a@localhost</admin>`,
    ),
    [],
  );
  const wrong = await problems(`<history>many</history><create>everybody</create><colour/>`);
  assert.equal(wrong.length, 3, wrong.join("\n"));
  assert.match(wrong.join("\n"), /"many" is not a whole number/);
  assert.match(wrong.join("\n"), /write anyone or admins/);
});

Deno.test("register() answers disco#info and disco#items of the service", async () => {
  await using muc = await mucTester(mucConfig("<name>Rooms</name>"));
  await muc.send(
    `<iq type="get" id="i" from="${ALICE}" to="${SERVICE}"><query xmlns="${NS_DISCO_INFO}"/></iq>`,
  );
  const info = muc.take(ALICE)[0].getChild("query", NS_DISCO_INFO)!;
  assert.deepEqual(info.getChild("identity")?.attrs, {
    category: "conference",
    type: "text",
    name: "Rooms",
  });
  assert.ok(info.getChildren("feature").some((f) => f.attrs.var === NS_MUC));
  await muc.create(ALICE, "Alice", { "muc#roomconfig_roomname": "Open room" });
  await muc.create(ALICE, "Alice", { "muc#roomconfig_publicroom": "0" }, `hidden@${SERVICE}`);
  await muc.join(BOB, "Bob", `locked@${SERVICE}`);
  await muc.send(
    `<iq type="get" id="i" from="${ALICE}" to="${SERVICE}"><query xmlns="${NS_DISCO_ITEMS}"/></iq>`,
  );
  const items = muc.take(ALICE)[0].getChild("query", NS_DISCO_ITEMS)!.getChildren(
    "item",
    NS_DISCO_ITEMS,
  );
  assert.deepEqual(items.map((i) => i.attrs), [{ jid: ROOM, name: "Open room" }]);
  await muc.send(
    `<iq type="get" id="i" from="${ALICE}" to="${ROOM}"><query xmlns="${NS_DISCO_INFO}"/></iq>`,
  );
  const room = muc.take(ALICE)[0].getChild("query", NS_DISCO_INFO)!;
  const fields = room.getChild("x")!.getChildren("field");
  assert.equal(
    fields.find((f) => f.attrs.var === "muc#roominfo_occupants")?.getChildText("value"),
    "1",
  );
  await muc.send(
    `<iq type="get" id="i" from="${ALICE}" to="locked@${SERVICE}"><query xmlns="${NS_DISCO_INFO}"/></iq>`,
  );
  assert.equal(condition(muc.take(ALICE)[0]), "item-not-found");
});

Deno.test("register() answers an occupant's self-ping (XEP-0410), and not-acceptable to others", async () => {
  await using muc = await mucTester();
  await muc.create(ALICE, "Alice");
  const ping = (from: string) =>
    `<iq type="get" id="p" from="${from}" to="${ROOM}/Alice"><ping xmlns="${NS_PING}"/></iq>`;
  await muc.send(ping(ALICE));
  const [pong] = muc.take(ALICE);
  assert.equal(pong.attrs.type, "result");
  assert.equal(pong.attrs.from, `${ROOM}/Alice`);
  await muc.send(ping(BOB));
  assert.equal(condition(muc.take(BOB)[0]), "not-acceptable");
  // Another resource of Alice's is not joined either.
  await muc.send(ping("alice@localhost/laptop"));
  assert.equal(condition(muc.take("alice@localhost/laptop")[0]), "not-acceptable");
});

Deno.test("register() relays a query between occupants and its answer back (§17.3)", async () => {
  await using muc = await mucTester();
  await muc.create(ALICE, "Alice");
  await muc.join(BOB, "Bob");
  muc.take(ALICE);
  await muc.send(`<iq type="get" id="v1" from="${BOB}" to="${ROOM}/Alice">
    <query xmlns="jabber:iq:version"/></iq>`);
  const [asked] = muc.take(ALICE);
  assert.equal(asked.attrs.from, `${ROOM}/Bob`);
  assert.equal(asked.attrs.id, "v1");
  await muc.send(`<iq type="result" id="v1" from="${ALICE}" to="${ROOM}/Bob">
    <query xmlns="jabber:iq:version"><name>x</name></query></iq>`);
  const [answer] = muc.take(BOB);
  assert.equal(answer.attrs.from, `${ROOM}/Alice`);
  assert.equal(answer.attrs.type, "result");
  assert.equal(answer.getChild("query")?.getChildText("name"), "x");
  await muc.send(`<iq type="get" id="v2" from="${BOB}" to="${ROOM}/Nobody">
    <query xmlns="jabber:iq:version"/></iq>`);
  assert.equal(condition(muc.take(BOB)[0]), "item-not-found");
});

Deno.test("register() runs the same service in a worker thread under <load thread=worker>", async () => {
  const path = new URL("./mod.ts", import.meta.url).pathname;
  await using muc = await mucTester(
    mucConfig("", `<load thread="worker" path="${path}"><history>1</history></load>`),
  );
  muc.world.router.deliver(
    parse(`<presence from="${ALICE}" to="${ROOM}/Alice"><x xmlns="${NS_MUC}"/></presence>`),
  );
  const created = await muc.wait(ALICE, 2);
  assert.deepEqual(codes(created[0]), [110, 201]);
  muc.world.router.deliver(parse(`<iq type="set" id="c" from="${ALICE}" to="${ROOM}">
    <query xmlns="http://jabber.org/protocol/muc#owner">
      <x xmlns="jabber:x:data" type="submit"><field var="muc#roomconfig_persistentroom"><value>1</value></field></x>
    </query></iq>`));
  assert.equal((await muc.wait(ALICE, 1))[0].attrs.type, "result");
  for (const body of ["one", "two"]) {
    muc.world.router.deliver(
      parse(
        `<message from="${ALICE}" to="${ROOM}" type="groupchat"><body>${body}</body></message>`,
      ),
    );
  }
  await muc.wait(ALICE, 2);
  muc.world.router.deliver(
    parse(`<presence from="${BOB}" to="${ROOM}/Bob"><x xmlns="${NS_MUC}"/></presence>`),
  );
  const joined = await muc.wait(BOB, 4);
  assert.deepEqual(item(joined[1]), { affiliation: "none", role: "participant", jid: BOB });
  // History of one message, as the worker's own settings say.
  assert.equal(joined[2].getChildText("body"), "two");
  assert.equal(joined[3].getChildText("subject"), "");
  // The persistent room went to XDB through the worker's api.xdb.
  assert.ok(await muc.world.xdb.get(ROOM, "jabberd:muc:room"));
});

Deno.test("register() lets only the service's admins create rooms under <create>admins</create>", async () => {
  await using muc = await mucTester(
    mucConfig("<create>admins</create><admin>alice@localhost</admin>"),
  );
  assert.equal(condition((await muc.join(BOB, "Bob"))[0]), "not-allowed");
  assert.deepEqual(codes((await muc.join(ALICE, "Alice"))[0]), [110, 201]);
});
