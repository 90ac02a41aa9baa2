import assert from "node:assert/strict";
import { NS_ROSTER } from "../../../util/ns.ts";
import { xml } from "../../../xml/element.ts";
import { parse, smWorld } from "../_testing.ts";
import type { Session } from "../types.ts";
import { csi, MAX_HELD } from "./csi.ts";
import { presence, roster, subscription } from "./roster/mod.ts";

const CHATSTATE = (n: string) =>
  `<message type="chat" to="bob@localhost/phone" id="${n}"><composing xmlns="http://jabber.org/protocol/chatstates"/></message>`;
const BODY = (n: string) =>
  `<message type="chat" to="bob@localhost/phone" id="${n}"><body>${n}</body></message>`;
const STATUS = (n: string) => `<presence id="${n}"><status>${n}</status></presence>`;

async function csiWorld() {
  const world = await smWorld({ features: [roster, subscription, presence, csi] });
  for (const user of ["alice", "bob"]) {
    await world.addUser(`${user}@localhost`);
    const contact = user === "alice" ? "bob@localhost" : "alice@localhost";
    await world.api.xdb.insert(
      `${user}@localhost`,
      NS_ROSTER,
      xml("item", { xmlns: NS_ROSTER, jid: contact, subscription: "both" }),
    );
  }
  const alice = world.bind("alice@localhost/pc");
  const bob = world.bind("bob@localhost/phone");
  await world.send(`<presence/>`, alice);
  await world.send(`<presence/>`, bob);
  world.take(alice);
  world.take(bob);
  /** What a session got, as `name id` (presence from alice, messages by id). */
  const got = (session: Session) =>
    world.take(session).map((stanza) => `${stanza.local} ${stanza.attrs.id}`);
  return Object.assign(world, { alice, bob, got, parse });
}

Deno.test("csi holds presence and chat states while inactive and sends the latest on active, in order", async () => {
  const world = await csiWorld();
  try {
    const { alice, bob, got } = world;
    await world.send(`<inactive xmlns="urn:xmpp:csi:0"/>`, bob);
    await world.send(STATUS("p1"), alice);
    await world.send(CHATSTATE("c1"), alice);
    await world.send(STATUS("p2"), alice);
    assert.deepEqual(got(bob), [], "nothing while inactive");
    await world.send(`<active xmlns="urn:xmpp:csi:0"/>`, bob);
    assert.deepEqual(got(bob), ["message c1", "presence p2"], "p1 replaced by the later p2");
    await world.send(STATUS("p3"), alice);
    assert.deepEqual(got(bob), ["presence p3"], "active: at once");
  } finally {
    await world.stop();
  }
});

Deno.test("csi sends a message with a body at once, after what it held", async () => {
  const world = await csiWorld();
  try {
    const { alice, bob, got } = world;
    await world.send(`<inactive xmlns="urn:xmpp:csi:0"/>`, bob);
    await world.send(STATUS("p1"), alice);
    await world.send(CHATSTATE("c1"), alice);
    await world.send(BODY("m1"), alice);
    assert.deepEqual(got(bob), ["presence p1", "message c1", "message m1"]);
    await world.send(CHATSTATE("c2"), alice);
    assert.deepEqual(got(bob), [], "still inactive after the flush");
  } finally {
    await world.stop();
  }
});

Deno.test("csi sends what it holds once more than MAX_HELD wait", async () => {
  const world = await csiWorld();
  try {
    const { alice, bob, got } = world;
    await world.send(`<inactive xmlns="urn:xmpp:csi:0"/>`, bob);
    // Sent in one go: the router keeps their order (ROUTING.md R23).
    for (let i = 0; i <= MAX_HELD; i++) {
      const stanza = world.parse(CHATSTATE(`c${i}`));
      stanza.attrs.from = alice.jid.toString();
      world.router.deliver(xml("route", { to: stanza.attrs.from, from: alice.route }, stanza));
    }
    await world.settle();
    const sent = got(bob);
    assert.equal(sent.length, MAX_HELD + 1);
    assert.equal(sent[0], "message c0");
  } finally {
    await world.stop();
  }
});
