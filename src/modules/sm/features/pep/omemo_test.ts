/** OMEMO (XEP-0384, the `eu.siacs.conversations.axolotl` nodes Conversations and Dino use) on PEP. */
import assert from "node:assert/strict";
import { pepWorld } from "./_pep_world.ts";
import {
  NS_CLIENT,
  NS_DATA_FORMS,
  NS_PUBSUB,
  NS_PUBSUB_ERRORS,
  NS_PUBSUB_OWNER,
} from "../../../../util/ns.ts";

const AXOLOTL = "eu.siacs.conversations.axolotl";
const DEVICELIST = `${AXOLOTL}.devicelist`;

const options = (access: string) =>
  `<publish-options><x xmlns="jabber:x:data" type="submit">` +
  `<field var="FORM_TYPE" type="hidden"><value>http://jabber.org/protocol/pubsub#publish-options</value></field>` +
  `<field var="pubsub#access_model"><value>${access}</value></field></x></publish-options>`;

const publish = (node: string, payload: string, extra = "") =>
  `<iq type="set" id="pub"><pubsub xmlns="http://jabber.org/protocol/pubsub">` +
  `<publish node="${node}"><item id="current">${payload}</item></publish>${extra}</pubsub></iq>`;

const DEVICES = `<list xmlns="${AXOLOTL}"><device id="1234"/></list>`;
const BUNDLE =
  `<bundle xmlns="${AXOLOTL}"><signedPreKeyPublic signedPreKeyId="1">BASE64</signedPreKeyPublic>` +
  `<identityKey>KEY</identityKey><prekeys><preKeyPublic preKeyId="1">PK</preKeyPublic></prekeys></bundle>`;

Deno.test("pep takes an OMEMO device list and bundle with open access, read by a contact and a stranger", async () => {
  const world = await pepWorld();
  try {
    for (const user of ["alice", "bob"]) await world.addUser(`${user}@localhost`);
    await world.befriend("alice@localhost", "bob@localhost");
    await world.befriend("bob@localhost", "alice@localhost");
    const alice = world.bind("alice@localhost/conversations");
    const bob = world.bind("bob@localhost/dino");
    await world.online(alice, [`${DEVICELIST}+notify`]);
    await world.online(bob, [`${DEVICELIST}+notify`]);
    world.inbox(alice);
    world.inbox(bob);

    const list = await world.iq(alice, publish(DEVICELIST, DEVICES, options("open")));
    assert.equal(list.attrs.type, "result");
    assert.deepEqual(world.events(bob), [`${DEVICELIST} current`]);
    assert.deepEqual(world.events(alice), [`${DEVICELIST} current`], "its own list, too");
    const bundle = await world.iq(
      alice,
      publish(`${AXOLOTL}.bundles:1234`, BUNDLE, options("open")),
    );
    assert.equal(bundle.attrs.type, "result");
    assert.deepEqual(world.events(bob), [], "nobody wants bundles+notify");

    const fetched = await world.iq(
      bob,
      `<iq type="get" id="b" to="alice@localhost"><pubsub xmlns="http://jabber.org/protocol/pubsub">` +
        `<items node="${AXOLOTL}.bundles:1234" max_items="1"/></pubsub></iq>`,
    );
    const item = fetched.getChild("pubsub", NS_PUBSUB)!.getChild("items", NS_PUBSUB)!.getChild(
      "item",
      NS_PUBSUB,
    )!;
    assert.equal(item.attrs.id, "current");
    assert.equal(item.getChild("bundle", AXOLOTL)!.getChildText("identityKey"), "KEY");

    await world.send(
      `<iq type="get" id="s" from="eve@remote.example/x" to="alice@localhost">` +
        `<pubsub xmlns="http://jabber.org/protocol/pubsub"><items node="${DEVICELIST}"/></pubsub></iq>`,
    );
    const remote = world.remote.at(-1)!;
    assert.equal(remote.attrs.type, "result", "open: someone without a subscription reads it");
    assert.equal(
      remote.getChild("pubsub", NS_PUBSUB)!.getChild("items", NS_PUBSUB)!.getChild(
        "item",
        NS_PUBSUB,
      )!.getChild("list", AXOLOTL)!
        .getChild("device")!.attrs.id,
      "1234",
    );
  } finally {
    await world.stop();
  }
});

Deno.test("pep answers precondition-not-met to publish-options that differ, until the node is reconfigured", async () => {
  const world = await pepWorld();
  try {
    await world.addUser("alice@localhost");
    const alice = world.bind("alice@localhost/conversations");
    assert.equal((await world.iq(alice, publish(DEVICELIST, DEVICES))).attrs.type, "result");
    const refused = await world.iq(alice, publish(DEVICELIST, DEVICES, options("open")));
    assert.deepEqual(world.conditions(refused), ["conflict", "precondition-not-met"]);
    assert.equal(
      refused.getChild("error", NS_CLIENT)!.getChild("precondition-not-met", NS_PUBSUB_ERRORS)!
        .attrs.xmlns,
      "http://jabber.org/protocol/pubsub#errors",
    );

    const form = await world.iq(
      alice,
      `<iq type="get" id="c"><pubsub xmlns="http://jabber.org/protocol/pubsub#owner">` +
        `<configure node="${DEVICELIST}"/></pubsub></iq>`,
    );
    const access = form.getChild("pubsub", NS_PUBSUB_OWNER)!.getChild("configure", NS_PUBSUB_OWNER)!
      .getChild("x", NS_DATA_FORMS)!
      .getChildren("field", NS_DATA_FORMS).find((field) =>
        field.attrs.var === "pubsub#access_model"
      )!;
    assert.equal(access.getChildText("value"), "presence", "the default access model");

    const configured = await world.iq(
      alice,
      `<iq type="set" id="c2"><pubsub xmlns="http://jabber.org/protocol/pubsub#owner">` +
        `<configure node="${DEVICELIST}"><x xmlns="jabber:x:data" type="submit">` +
        `<field var="FORM_TYPE" type="hidden"><value>http://jabber.org/protocol/pubsub#node_config</value></field>` +
        `<field var="pubsub#access_model"><value>open</value></field></x></configure></pubsub></iq>`,
    );
    assert.equal(configured.attrs.type, "result");
    const again = await world.iq(alice, publish(DEVICELIST, DEVICES, options("open")));
    assert.equal(again.attrs.type, "result");
    const bad = await world.iq(alice, publish(DEVICELIST, DEVICES, options("everyone")));
    assert.deepEqual(world.conditions(bad), ["not-acceptable"]);
  } finally {
    await world.stop();
  }
});
