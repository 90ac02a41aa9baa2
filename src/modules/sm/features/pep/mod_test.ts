import assert from "node:assert/strict";
import { JID } from "../../../../util/jid.ts";
import { pepWorld } from "./_pep_world.ts";
import { NS_PUBSUB, NS_PUBSUB_EVENT } from "../../../../util/ns.ts";

const TUNE = "http://jabber.org/protocol/tune";
const publishTune = (id: string, artist = "Yes") =>
  `<iq type="set" id="p-${id}"><pubsub xmlns="http://jabber.org/protocol/pubsub">` +
  `<publish node="${TUNE}"><item id="${id}"><tune xmlns="${TUNE}"><artist>${artist}</artist>` +
  `</tune></item></publish></pubsub></iq>`;

Deno.test("pep notifies each resource whose caps want the node, asking each new ver once", async () => {
  const world = await pepWorld();
  try {
    for (const user of ["alice", "bob", "carol"]) await world.addUser(`${user}@localhost`);
    for (const contact of ["bob", "carol"]) {
      await world.befriend("alice@localhost", `${contact}@localhost`);
      await world.befriend(`${contact}@localhost`, "alice@localhost");
    }
    const alice = world.bind("alice@localhost/phone");
    const alicePc = world.bind("alice@localhost/pc");
    const bob = world.bind("bob@localhost/pc");
    const bob2 = world.bind("bob@localhost/laptop");
    const carol = world.bind("carol@localhost/pc");
    assert.equal(await world.online(alice, []), true);
    assert.equal(await world.online(alicePc, [`${TUNE}+notify`]), true);
    assert.equal(await world.online(bob, [`${TUNE}+notify`]), false, "the same ver: known");
    assert.equal(await world.online(bob2, [`${TUNE}+notify`, "urn:x"]), true);
    assert.equal(await world.online(carol, [TUNE]), true, "no +notify");
    for (const session of [alice, alicePc, bob, bob2, carol]) world.inbox(session);

    const reply = await world.iq(alice, publishTune("t1"));
    assert.equal(reply.attrs.type, "result");
    const item = reply.getChild("pubsub", NS_PUBSUB)!.getChild("publish", NS_PUBSUB)!.getChild(
      "item",
      NS_PUBSUB,
    )!;
    assert.equal(item.attrs.id, "t1");
    assert.deepEqual(world.events(alicePc), [`${TUNE} t1`], "own resource with +notify");
    assert.deepEqual(world.events(bob), [`${TUNE} t1`]);
    assert.deepEqual(world.events(bob2), [`${TUNE} t1`]);
    assert.deepEqual(world.events(carol), [], "caps without +notify");
    assert.deepEqual(world.events(alice), [], "own resource without +notify");
    await world.iq(alice, publishTune("t2", "Genesis"));
    const [message] = world.inbox(bob);
    world.inbox(bob2);
    assert.equal(message.attrs.from, "alice@localhost");
    assert.equal(message.attrs.type, "headline");
    const artist = message.getChild("event", NS_PUBSUB_EVENT)!.getChild("items", NS_PUBSUB_EVENT)!
      .getChild("item", NS_PUBSUB_EVENT)!
      .getChild("tune", TUNE)!.getChildText("artist");
    assert.equal(artist, "Genesis", "the payload travels in its own namespace");

    // Bob goes away: no more notifications for that resource.
    await world.send(`<presence type="unavailable"/>`, bob);
    world.inbox(bob);
    await world.iq(alice, publishTune("t3"));
    assert.deepEqual(world.events(bob), []);
    assert.deepEqual(world.events(bob2), [`${TUNE} t3`]);
  } finally {
    await world.stop();
  }
});

Deno.test("pep sends the last item to a contact that comes online with +notify caps", async () => {
  const world = await pepWorld();
  try {
    for (const user of ["alice", "bob"]) await world.addUser(`${user}@localhost`);
    await world.befriend("alice@localhost", "bob@localhost");
    await world.befriend("bob@localhost", "alice@localhost");
    const alice = world.bind("alice@localhost/phone");
    await world.online(alice, []);
    await world.iq(alice, publishTune("t1"));
    await world.iq(alice, publishTune("t2"));
    const bob = world.bind("bob@localhost/pc");
    await world.online(bob, [`${TUNE}+notify`]);
    assert.deepEqual(world.events(bob), [`${TUNE} t2`], "the newest item, once caps are known");
    const later = world.bind("bob@localhost/tablet");
    await world.online(later, [`${TUNE}+notify`]);
    assert.deepEqual(world.events(later), [`${TUNE} t2`], "known caps: at once");
  } finally {
    await world.stop();
  }
});

Deno.test("pep keeps max_items, reads by id and newest, retracts and deletes with notifications", async () => {
  const world = await pepWorld();
  try {
    await world.addUser("alice@localhost");
    const alice = world.bind("alice@localhost/phone");
    const watcher = world.bind("alice@localhost/pc");
    await world.online(alice, []);
    await world.online(watcher, ["urn:x:list+notify"]);
    world.inbox(alice);
    const publish = (id: string) =>
      world.iq(
        alice,
        `<iq type="set" id="p${id}"><pubsub xmlns="http://jabber.org/protocol/pubsub">` +
          `<publish node="urn:x:list"><item id="${id}"><v xmlns="urn:x:list">${id}</v></item>` +
          `</publish><publish-options><x xmlns="jabber:x:data" type="submit">` +
          `<field var="FORM_TYPE" type="hidden"><value>http://jabber.org/protocol/pubsub#publish-options</value></field>` +
          `<field var="pubsub#max_items"><value>2</value></field></x></publish-options></pubsub></iq>`,
      );
    for (const id of ["a", "b", "c", "b"]) assert.equal((await publish(id)).attrs.type, "result");
    const ids = async (request: string) => {
      const reply = await world.iq(
        alice,
        `<iq type="get" id="g"><pubsub xmlns="http://jabber.org/protocol/pubsub">${request}</pubsub></iq>`,
      );
      return reply.getChild("pubsub", NS_PUBSUB)!.getChild("items", NS_PUBSUB)!.getChildren(
        "item",
        NS_PUBSUB,
      ).map((i) => i.getChildText("v"));
    };
    assert.deepEqual(await ids(`<items node="urn:x:list"/>`), ["c", "b"], "b moved to newest");
    assert.deepEqual(await ids(`<items node="urn:x:list" max_items="1"/>`), ["b"]);
    assert.deepEqual(await ids(`<items node="urn:x:list"><item id="c"/></items>`), ["c"]);
    world.events(watcher);
    const retract = await world.iq(
      alice,
      `<iq type="set" id="r"><pubsub xmlns="http://jabber.org/protocol/pubsub">` +
        `<retract node="urn:x:list" notify="true"><item id="c"/></retract></pubsub></iq>`,
    );
    assert.equal(retract.attrs.type, "result");
    assert.deepEqual(world.events(watcher), ["urn:x:list retract:c"]);
    const missing = await world.iq(
      alice,
      `<iq type="set" id="r2"><pubsub xmlns="http://jabber.org/protocol/pubsub">` +
        `<retract node="urn:x:list"><item id="c"/></retract></pubsub></iq>`,
    );
    assert.deepEqual(world.conditions(missing), ["item-not-found"]);
    const deleted = await world.iq(
      alice,
      `<iq type="set" id="d"><pubsub xmlns="http://jabber.org/protocol/pubsub#owner">` +
        `<delete node="urn:x:list"/></pubsub></iq>`,
    );
    assert.equal(deleted.attrs.type, "result");
    assert.deepEqual(world.events(watcher), ["delete urn:x:list"]);
    const gone = await world.iq(
      alice,
      `<iq type="get" id="g2"><pubsub xmlns="http://jabber.org/protocol/pubsub"><items node="urn:x:list"/></pubsub></iq>`,
    );
    assert.deepEqual(world.conditions(gone), ["item-not-found"]);
  } finally {
    await world.stop();
  }
});

Deno.test("pep applies access models presence, open, roster and whitelist to other readers", async () => {
  const world = await pepWorld();
  try {
    for (const user of ["alice", "bob", "dave"]) await world.addUser(`${user}@localhost`);
    await world.befriend("alice@localhost", "bob@localhost", "from", "friends");
    await world.befriend("alice@localhost", "dave@localhost", "to", "work");
    const alice = world.bind("alice@localhost/phone");
    const bob = world.bind("bob@localhost/pc");
    const dave = world.bind("dave@localhost/pc");
    const publish = (node: string, access: string, groups = "") =>
      world.iq(
        alice,
        `<iq type="set" id="p"><pubsub xmlns="http://jabber.org/protocol/pubsub">` +
          `<publish node="${node}"><item id="1"><v xmlns="urn:x"/></item></publish>` +
          `<publish-options><x xmlns="jabber:x:data" type="submit">` +
          `<field var="pubsub#access_model"><value>${access}</value></field>${groups}` +
          `</x></publish-options></pubsub></iq>`,
      );
    await publish("n:presence", "presence");
    await publish("n:open", "open");
    await publish(
      "n:roster",
      "roster",
      `<field var="pubsub#roster_groups_allowed"><value>friends</value></field>`,
    );
    await publish("n:whitelist", "whitelist");
    const read = async (session: typeof bob, node: string) => {
      const reply = await world.iq(
        session,
        `<iq type="get" id="g" to="alice@localhost"><pubsub xmlns="http://jabber.org/protocol/pubsub"><items node="${node}"/></pubsub></iq>`,
      );
      return reply.attrs.type === "result" ? "ok" : world.conditions(reply)!.join(" ");
    };
    assert.equal(await read(bob, "n:presence"), "ok", "subscription from");
    assert.equal(
      await read(dave, "n:presence"),
      "not-authorized presence-subscription-required",
      "subscription to only",
    );
    assert.equal(await read(dave, "n:open"), "ok");
    assert.equal(await read(bob, "n:roster"), "ok", "in an allowed group");
    assert.equal(await read(dave, "n:roster"), "not-authorized not-in-roster-group");
    assert.equal(await read(bob, "n:whitelist"), "not-allowed closed-node");
    assert.equal(await read(alice, "n:whitelist"), "ok", "the owner");
    assert.equal(await read(bob, "n:none"), "item-not-found");

    await world.send(
      `<iq type="get" id="remote" from="eve@remote.example/x" to="alice@localhost">` +
        `<pubsub xmlns="http://jabber.org/protocol/pubsub"><items node="n:open"/></pubsub></iq>`,
    );
    assert.equal(world.remote.at(-1)!.attrs.type, "result", "open to another server's user");
    const publishElsewhere = await world.iq(
      bob,
      `<iq type="set" id="x" to="alice@localhost"><pubsub xmlns="http://jabber.org/protocol/pubsub">` +
        `<publish node="n:open"><item><v xmlns="urn:x"/></item></publish></pubsub></iq>`,
    );
    assert.deepEqual(world.conditions(publishElsewhere), ["forbidden"]);
  } finally {
    await world.stop();
  }
});

Deno.test("pep advertises pubsub/pep and its features on the account", async () => {
  const world = await pepWorld();
  try {
    await world.addUser("alice@localhost");
    const alice = world.bind("alice@localhost/phone");
    const reply = await world.iq(
      alice,
      `<iq type="get" id="d" to="alice@localhost"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`,
    );
    const query = reply.getChild("query")!;
    assert.ok(
      query.getChildren("identity").some((i) =>
        i.attrs.category === "pubsub" && i.attrs.type === "pep"
      ),
    );
    const features = query.getChildren("feature").map((f) => f.attrs.var);
    for (const name of ["publish", "auto-create", "publish-options", "access-whitelist"]) {
      assert.ok(features.includes(`http://jabber.org/protocol/pubsub#${name}`), name);
    }
    assert.ok(features.includes("urn:xmpp:bookmarks:1#compat"));
  } finally {
    await world.stop();
  }
});

Deno.test("pep removes an account's nodes and items when the account is deleted", async () => {
  const world = await pepWorld();
  try {
    await world.addUser("alice@localhost");
    const alice = world.bind("alice@localhost/phone");
    assert.equal((await world.iq(alice, publishTune("t1"))).attrs.type, "result");
    assert.ok(await world.api.xdb.get("alice@localhost", "jabberd:pep"));
    world.api.fire("user-deleted", { jid: JID.parse("alice@localhost") });
    await world.settle();
    assert.equal(await world.api.xdb.get("alice@localhost", "jabberd:pep"), undefined);
    assert.equal(await world.api.xdb.get("alice@localhost", `jabberd:pep:${TUNE}`), undefined);
  } finally {
    await world.stop();
  }
});

Deno.test("pep notifies only those the access model lets read, after directed presence", async () => {
  const world = await pepWorld();
  try {
    for (const user of ["alice", "dave"]) await world.addUser(`${user}@localhost`);
    const alice = world.bind("alice@localhost/phone");
    const dave = world.bind("dave@localhost/pc");
    await world.online(alice, []);
    await world.iq(alice, publishTune("t1"));
    const open = `<iq type="set" id="o"><pubsub xmlns="http://jabber.org/protocol/pubsub">` +
      `<publish node="urn:x:open"><item id="o1"><v xmlns="urn:x:open"/></item></publish>` +
      `<publish-options><x xmlns="jabber:x:data" type="submit">` +
      `<field var="pubsub#access_model"><value>open</value></field></x></publish-options>` +
      `</pubsub></iq>`;
    await world.iq(alice, open);
    // Dave has no subscription: his directed presence tells alice's PEP what he wants.
    await world.online(dave, [`${TUNE}+notify`, "urn:x:open+notify"], "alice@localhost");
    assert.deepEqual(world.events(dave), ["urn:x:open o1"], "the open node's last item only");
    await world.iq(alice, publishTune("t2"));
    await world.iq(alice, open.replace(`id="o1"`, `id="o2"`));
    assert.deepEqual(world.events(dave), ["urn:x:open o2"]);
  } finally {
    await world.stop();
  }
});
