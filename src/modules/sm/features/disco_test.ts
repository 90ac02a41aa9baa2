import assert from "node:assert/strict";
import { disco } from "./disco.ts";
import { ping } from "./ping.ts";
import { smWorld } from "../_testing.ts";
import { vcard } from "./vcard.ts";

const INFO = "http://jabber.org/protocol/disco#info";
const ITEMS = "http://jabber.org/protocol/disco#items";

Deno.test("disco#info of the host shows server/im and the features of enabled features", async () => {
  const world = await smWorld({ features: [disco, ping, vcard] });
  try {
    const alice = world.bind("alice@localhost/phone");
    await world.send(`<iq type="get" id="i1" to="localhost"><query xmlns="${INFO}"/></iq>`, alice);
    const query = world.take(alice)[0].getChild("query", INFO)!;
    const identity = query.getChild("identity")!;
    assert.deepEqual([identity.attrs.category, identity.attrs.type], ["server", "im"]);
    const features = query.getChildren("feature").map((f) => f.attrs.var);
    assert.deepEqual(features, [INFO, ITEMS, "urn:xmpp:ping", "vcard-temp"]);
    await world.send(
      `<iq type="get" id="i2" to="localhost"><query xmlns="${INFO}" node="x"/></iq>`,
      alice,
    );
    assert.equal(world.take(alice)[0].getChild("error")!.elements[0].local, "item-not-found");
  } finally {
    await world.stop();
  }
});

Deno.test("disco#items of the host lists the configured items", async () => {
  const world = await smWorld({
    features: [disco],
    config: `<item jid="conference.localhost" name="Chatrooms"/><item jid="upload.localhost"/>`,
  });
  try {
    await world.send(
      `<iq type="get" id="t1" from="bob@example.org/x" to="localhost"><query xmlns="${ITEMS}"/></iq>`,
    );
    const items = world.remote[0].getChild("query", ITEMS)!.getChildren("item");
    assert.deepEqual(items.map((i) => [i.attrs.jid, i.attrs.name]), [
      ["conference.localhost", "Chatrooms"],
      ["upload.localhost", undefined],
    ]);
  } finally {
    await world.stop();
  }
});

Deno.test("disco#items of the host lists the services the tree routes under it", async () => {
  const world = await smWorld({
    features: [disco],
    config: `<item jid="upload.localhost" name="Uploads"/><item jid="rooms.example.net"/>`,
    sections: `
      <service id="rooms"><host>conference.localhost</host><null/></service>
      <service id="bot.localhost">
        <accept><ip>127.0.0.1</ip><port>0</port><secret>s3cret</secret></accept>
      </service>
      <service id="pubsub.example.net"><null/></service>
      <service id="wild"><host>*.chat.localhost</host><null/></service>`,
  });
  try {
    await world.send(
      `<iq type="get" id="t2" from="bob@example.org/x" to="localhost"><query xmlns="${ITEMS}"/></iq>`,
    );
    const items = world.remote[0].getChild("query", ITEMS)!.getChildren("item", ITEMS);
    // Subdomains of localhost only (not another domain, not a wildcard), then the <item>s.
    assert.deepEqual(items.map((i) => [i.attrs.jid, i.attrs.name]), [
      ["bot.localhost", undefined],
      ["conference.localhost", undefined],
      ["upload.localhost", "Uploads"],
      ["rooms.example.net", undefined],
    ]);
  } finally {
    await world.stop();
  }
});

Deno.test("disco#info of a user is account/registered, and service-unavailable for nobody", async () => {
  const world = await smWorld({ features: [disco, vcard] });
  try {
    await world.addUser("alice@localhost");
    await world.send(
      `<iq type="get" id="u1" from="bob@example.org/x" to="alice@localhost"><query xmlns="${INFO}"/></iq>`,
    );
    await world.send(
      `<iq type="get" id="u2" from="bob@example.org/x" to="zed@localhost"><query xmlns="${INFO}"/></iq>`,
    );
    const [found, missing] = world.remote;
    const query = found.getChild("query", INFO)!;
    assert.equal(query.getChild("identity")!.attrs.category, "account");
    assert.ok(query.getChildren("feature").some((f) => f.attrs.var === "vcard-temp"));
    assert.equal(missing.getChild("error")!.elements[0].local, "service-unavailable");
  } finally {
    await world.stop();
  }
});
