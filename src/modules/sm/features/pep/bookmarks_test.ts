import assert from "node:assert/strict";
import { pepWorld } from "./_pep_world.ts";
import { NS_DATA_FORMS, NS_PUBSUB, NS_PUBSUB_OWNER } from "../../../../util/ns.ts";

const BOOKMARKS = "urn:xmpp:bookmarks:1";

/** XEP-0402 §4.1 with the publish-options of §5. */
const publishBookmark = (room: string, name: string) =>
  `<iq type="set" id="b-${room}"><pubsub xmlns="http://jabber.org/protocol/pubsub">` +
  `<publish node="${BOOKMARKS}"><item id="${room}"><conference xmlns="${BOOKMARKS}" name="${name}" autojoin="true">` +
  `<nick>alice</nick><extensions><x xmlns="urn:x:ext"/></extensions></conference></item></publish>` +
  `<publish-options><x xmlns="jabber:x:data" type="submit">` +
  `<field var="FORM_TYPE" type="hidden"><value>http://jabber.org/protocol/pubsub#publish-options</value></field>` +
  `<field var="pubsub#persist_items"><value>true</value></field>` +
  `<field var="pubsub#max_items"><value>max</value></field>` +
  `<field var="pubsub#send_last_published_item"><value>never</value></field>` +
  `<field var="pubsub#access_model"><value>whitelist</value></field>` +
  `</x></publish-options></pubsub></iq>`;

const GET_LEGACY =
  `<iq type="get" id="pg"><query xmlns="jabber:iq:private"><storage xmlns="storage:bookmarks"/></query></iq>`;

Deno.test("bookmarks published to PEP (XEP-0402) show in private XML storage:bookmarks (XEP-0411)", async () => {
  const world = await pepWorld();
  try {
    await world.addUser("alice@localhost");
    const alice = world.bind("alice@localhost/new");
    const legacy = world.bind("alice@localhost/old");
    await world.iq(
      legacy,
      `<iq type="set" id="u"><query xmlns="jabber:iq:private"><storage xmlns="storage:bookmarks">` +
        `<url name="Site" url="https://example.org/"/></storage></query></iq>`,
    );
    for (const [room, name] of [["a@muc.localhost", "A"], ["b@muc.localhost", "B"]]) {
      assert.equal((await world.iq(alice, publishBookmark(room, name))).attrs.type, "result");
    }
    const storage = (await world.iq(legacy, GET_LEGACY)).getChild("query")!
      .getChild("storage", "storage:bookmarks")!;
    assert.deepEqual(
      storage.getChildren("conference").map((c) =>
        `${c.attrs.jid} ${c.attrs.name} ${c.attrs.autojoin} ${c.getChildText("nick")}`
      ),
      ["a@muc.localhost A true alice", "b@muc.localhost B true alice"],
    );
    assert.equal(storage.getChild("url")!.attrs.url, "https://example.org/", "URLs are kept");

    await world.iq(
      alice,
      `<iq type="set" id="r"><pubsub xmlns="http://jabber.org/protocol/pubsub">` +
        `<retract node="${BOOKMARKS}" notify="true"><item id="a@muc.localhost"/></retract></pubsub></iq>`,
    );
    const after = (await world.iq(legacy, GET_LEGACY)).getChild("query")!
      .getChild("storage", "storage:bookmarks")!;
    assert.deepEqual(after.getChildren("conference").map((c) => c.attrs.jid), ["b@muc.localhost"]);
  } finally {
    await world.stop();
  }
});

Deno.test("bookmarks stored as private XML (XEP-0048) are published, changed and retracted in PEP", async () => {
  const world = await pepWorld();
  try {
    await world.addUser("alice@localhost");
    const alice = world.bind("alice@localhost/new");
    const legacy = world.bind("alice@localhost/old");
    await world.online(alice, [`${BOOKMARKS}+notify`]);
    world.inbox(alice);
    assert.equal(
      (await world.iq(alice, publishBookmark("a@muc.localhost", "A"))).attrs.type,
      "result",
    );
    assert.deepEqual(world.events(alice), [`${BOOKMARKS} a@muc.localhost`]);
    const store = (conferences: string) =>
      world.iq(
        legacy,
        `<iq type="set" id="s"><query xmlns="jabber:iq:private"><storage xmlns="storage:bookmarks">` +
          `${conferences}</storage></query></iq>`,
      );
    assert.equal(
      (await store(
        `<conference jid="a@muc.localhost" name="A" autojoin="true"><nick>alice</nick></conference>` +
          `<conference jid="c@muc.localhost" name="C"><password>pw</password></conference>`,
      )).attrs.type,
      "result",
    );
    assert.deepEqual(world.events(alice), [`${BOOKMARKS} c@muc.localhost`], "only what changed");
    const items = async () => {
      const reply = await world.iq(
        alice,
        `<iq type="get" id="g"><pubsub xmlns="http://jabber.org/protocol/pubsub"><items node="${BOOKMARKS}"/></pubsub></iq>`,
      );
      return reply.getChild("pubsub", NS_PUBSUB)!.getChild("items", NS_PUBSUB)!.getChildren(
        "item",
        NS_PUBSUB,
      );
    };
    const [a, c] = await items();
    assert.ok(a.getChild("conference", BOOKMARKS)!.getChild("extensions"), "extensions kept");
    const conference = c.getChild("conference", BOOKMARKS)!;
    assert.equal(
      `${c.attrs.id} ${conference.attrs.name} ${conference.getChildText("password")}`,
      "c@muc.localhost C pw",
    );
    assert.equal(conference.attrs.autojoin, undefined);

    await store(`<conference jid="c@muc.localhost" name="C2"/>`);
    assert.deepEqual(world.events(alice), [
      `${BOOKMARKS} c@muc.localhost`,
      `${BOOKMARKS} retract:a@muc.localhost`,
    ]);
    assert.deepEqual((await items()).map((item) => item.attrs.id), ["c@muc.localhost"]);
    const form = await world.iq(
      alice,
      `<iq type="get" id="c"><pubsub xmlns="http://jabber.org/protocol/pubsub#owner"><configure node="${BOOKMARKS}"/></pubsub></iq>`,
    );
    const access = form.getChild("pubsub", NS_PUBSUB_OWNER)!.getChild("configure", NS_PUBSUB_OWNER)!
      .getChild("x", NS_DATA_FORMS)!
      .getChildren("field", NS_DATA_FORMS).find((field) =>
        field.attrs.var === "pubsub#access_model"
      )!;
    assert.equal(access.getChildText("value"), "whitelist");
  } finally {
    await world.stop();
  }
});
