import assert from "node:assert/strict";
import type { Element } from "../../../xml/element.ts";
import { smWorld } from "../_testing.ts";
import type { SmFeature } from "../types.ts";
import {
  avatarConversion,
  NS_AVATAR_DATA,
  NS_AVATAR_METADATA,
  NS_PEP_VCARD_CONVERSION,
} from "./avatar_conversion.ts";
import { disco } from "./disco.ts";
import { pep } from "./pep/mod.ts";
import { presence, roster, subscription } from "./roster/mod.ts";
import { vcard } from "./vcard.ts";
import { NS_PUBSUB } from "../../../util/ns.ts";

// "hello" in base64; its SHA-1 is well known.
const PHOTO = "aGVsbG8=";
const HELLO_SHA1 = "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d";
const PUBSUB = "http://jabber.org/protocol/pubsub";

const publish = (node: string, id: string, payload: string) =>
  `<iq type="set" id="p-${id}"><pubsub xmlns="${PUBSUB}"><publish node="${node}">` +
  `<item id="${id}">${payload}</item></publish></pubsub></iq>`;

/** A world with vCard, PEP and the conversion, counting the events a client's change fires. */
async function avatarWorld(config = "") {
  const fired = { "vcard-stored": 0, "pep-published": 0 };
  const counter: SmFeature = {
    name: "test-counter",
    register(sm) {
      for (const name of Object.keys(fired) as (keyof typeof fired)[]) {
        sm.api.hook(name, () => {
          fired[name]++;
        }, 1000);
      }
    },
  };
  const world = await smWorld({
    config,
    features: [roster, subscription, presence, vcard, disco, pep, avatarConversion, counter],
  });
  await world.addUser("alice@localhost");
  const alice = world.bind("alice@localhost/phone");
  /** Sends an iq as alice and answers the one reply. */
  const iq = async (text: string): Promise<Element> => {
    await world.send(text, alice);
    const replies = world.take(alice).filter((stanza) => stanza.is("iq"));
    assert.equal(replies.length, 1, `one reply to ${text}`);
    return replies[0];
  };
  /** The items of alice's node as a stranger elsewhere reads them (the node's access model). */
  const itemsOf = async (node: string) => {
    await world.send(
      `<iq type="get" id="r" from="bob@remote.example/x" to="alice@localhost">` +
        `<pubsub xmlns="${PUBSUB}"><items node="${node}"/></pubsub></iq>`,
    );
    const reply = world.remote.at(-1)!;
    assert.equal(reply.attrs.type, "result", reply.toString());
    return reply.getChild("pubsub", NS_PUBSUB)!.getChild("items", NS_PUBSUB)!.getChildren(
      "item",
      NS_PUBSUB,
    );
  };
  const vcardOf = async () =>
    (await iq(`<iq type="get" id="v"><vCard xmlns="vcard-temp"/></iq>`)).getChild(
      "vCard",
      "vcard-temp",
    )!;
  return Object.assign(world, { fired, alice, iq, itemsOf, vcardOf });
}

Deno.test("avatarConversion sets the vCard PHOTO from an avatar published to PEP, without converting back", async () => {
  const world = await avatarWorld();
  try {
    const data = `<data xmlns="${NS_AVATAR_DATA}">${PHOTO}</data>`;
    assert.equal((await world.iq(publish(NS_AVATAR_DATA, HELLO_SHA1, data))).attrs.type, "result");
    const info = `<info id="${HELLO_SHA1}" bytes="5" type="image/png"/>`;
    const metadata = `<metadata xmlns="${NS_AVATAR_METADATA}">${info}</metadata>`;
    const reply = await world.iq(publish(NS_AVATAR_METADATA, HELLO_SHA1, metadata));
    assert.equal(reply.attrs.type, "result");
    const photo = (await world.vcardOf()).getChild("PHOTO")!;
    assert.equal(photo.getChildText("TYPE"), "image/png");
    assert.equal(photo.getChildText("BINVAL"), PHOTO);
    assert.equal(world.fired["vcard-stored"], 0, "the converted vCard is not converted back");
    assert.equal(world.fired["pep-published"], 2);

    // XEP-0153: the next broadcast carries the hash of the converted photo.
    const stanzas: string[] = [];
    world.api.hook("pre-presence/bare", ({ stanza }: { stanza: Element }) => {
      stanzas.push(stanza.toString());
    }, 50); // After vcard.ts stamps the hash (100), before presence routes it (5).
    await world.send(`<presence/>`, world.alice);
    assert.match(stanzas[0], new RegExp(`<photo>${HELLO_SHA1}</photo>`));

    // Empty metadata disables the avatar: the PHOTO goes, the rest of the vCard stays.
    await world.iq(`<iq type="set" id="s"><vCard xmlns="vcard-temp"><FN>Alice</FN></vCard></iq>`);
    await world.iq(publish(NS_AVATAR_DATA, HELLO_SHA1, data));
    await world.iq(publish(NS_AVATAR_METADATA, HELLO_SHA1, metadata));
    assert.equal((await world.vcardOf()).getChild("PHOTO")?.getChildText("BINVAL"), PHOTO);
    await world.iq(publish(NS_AVATAR_METADATA, "off", `<metadata xmlns="${NS_AVATAR_METADATA}"/>`));
    const card = await world.vcardOf();
    assert.equal(card.getChild("PHOTO"), undefined);
    assert.equal(card.getChildText("FN"), "Alice");
  } finally {
    await world.stop();
  }
});

Deno.test("avatarConversion publishes a vCard PHOTO to the open avatar nodes, without converting back", async () => {
  const world = await avatarWorld();
  try {
    const set =
      `<iq type="set" id="s1"><vCard xmlns="vcard-temp"><FN>Alice</FN><PHOTO><TYPE>image/png</TYPE>` +
      `<BINVAL>aGVs\nbG8=</BINVAL></PHOTO></vCard></iq>`;
    assert.equal((await world.iq(set)).attrs.type, "result");
    const [data] = await world.itemsOf(NS_AVATAR_DATA);
    assert.equal(data.attrs.id, HELLO_SHA1);
    assert.equal(data.getChildText("data"), PHOTO);
    const [metadata] = await world.itemsOf(NS_AVATAR_METADATA);
    assert.equal(metadata.attrs.id, HELLO_SHA1);
    const info = metadata.getChild("metadata", NS_AVATAR_METADATA)!.getChild("info")!;
    assert.deepEqual(
      { ...info.attrs },
      { id: HELLO_SHA1, bytes: "5", type: "image/png" },
    );
    assert.equal(world.fired["pep-published"], 0, "the conversion is not converted back");
    assert.equal(world.fired["vcard-stored"], 1);

    // A vCard without PHOTO disables the PEP avatar (XEP-0084 empty metadata).
    await world.iq(`<iq type="set" id="s2"><vCard xmlns="vcard-temp"><FN>Alice</FN></vCard></iq>`);
    const [off] = await world.itemsOf(NS_AVATAR_METADATA);
    assert.equal(off.getChild("metadata", NS_AVATAR_METADATA)!.elements.length, 0);
  } finally {
    await world.stop();
  }
});

Deno.test("avatarConversion is advertised on the account, and <disable> switches it off", async () => {
  const query = `<iq type="get" id="d" to="alice@localhost">` +
    `<query xmlns="http://jabber.org/protocol/disco#info"/></iq>`;
  const features = (reply: Element) =>
    reply.getChild("query")!.getChildren("feature").map((feature) => feature.attrs.var);
  const on = await avatarWorld();
  try {
    assert.ok(features(await on.iq(query)).includes(NS_PEP_VCARD_CONVERSION));
  } finally {
    await on.stop();
  }
  const off = await avatarWorld("<disable>avatar-conversion</disable>");
  try {
    assert.ok(!features(await off.iq(query)).includes(NS_PEP_VCARD_CONVERSION));
    await off.iq(
      `<iq type="set" id="s"><vCard xmlns="vcard-temp"><PHOTO><TYPE>image/png</TYPE>` +
        `<BINVAL>${PHOTO}</BINVAL></PHOTO></vCard></iq>`,
    );
    await off.send(
      `<iq type="get" id="r" from="bob@remote.example/x" to="alice@localhost">` +
        `<pubsub xmlns="${PUBSUB}"><items node="${NS_AVATAR_DATA}"/></pubsub></iq>`,
    );
    const error = off.remote.at(-1)!.getChild("error")!;
    assert.equal(error.elements[0].local, "item-not-found", "no node was made");
  } finally {
    await off.stop();
  }
});
