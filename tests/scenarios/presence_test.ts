import assert from "node:assert/strict";
import { type Client, REMOTE, scenario } from "./harness.ts";

/** Makes `a` subscribe to `b` and `b` approve, both already logged in. */
async function subscribe(a: Client, b: Client, aBare: string, bBare: string) {
  await a.send(`<presence type="subscribe" to="${bBare}"/>`);
  await b.send(`<presence type="subscribed" to="${aBare}"/>`);
}

Deno.test("initial presence probes, broadcasts and learns the other resources (RFC 6121 §4.2)", async () => {
  const carol = `carol@${REMOTE}`;
  const world = await scenario({ users: ["alice@localhost", "bob@localhost"] });
  try {
    const alice = await world.login("alice@localhost/home");
    const bob = await world.login("bob@localhost/work");
    // alice ⇄ bob both ways; alice → carol (remote) both ways.
    await subscribe(alice, bob, "alice@localhost", "bob@localhost");
    await subscribe(bob, alice, "bob@localhost", "alice@localhost");
    await alice.send(`<presence type="subscribe" to="${carol}"/>`);
    await world.remoteSends(`<presence type="subscribed" from="${carol}" to="alice@localhost"/>`);
    await world.remoteSends(`<presence type="subscribe" from="${carol}" to="alice@localhost"/>`);
    await alice.send(`<presence type="subscribed" to="${carol}"/>`);
    await bob.send(`<presence><priority>5</priority></presence>`);
    alice.take();
    bob.take();
    world.remoteTakes();

    await alice.send(`<presence><show>chat</show></presence>`);
    // Bob is probed by the server directly (same host): his presence comes back.
    assert.deepEqual(alice.take().sort(), [
      "presence available from alice@localhost/home",
      "presence available from bob@localhost/work",
    ]);
    assert.deepEqual(bob.take(), ["presence available from alice@localhost/home"]);
    assert.deepEqual(world.remoteTakes().sort(), [
      `presence available from alice@localhost/home to ${carol}`,
      `presence probe from alice@localhost to ${carol}`,
    ]);

    // A second resource of alice gets her first resource's presence (§4.2.2).
    const phone = await world.login("alice@localhost/phone");
    await phone.send(`<presence><priority>-1</priority></presence>`);
    assert.deepEqual(phone.take().sort(), [
      "presence available from alice@localhost/home",
      "presence available from alice@localhost/phone",
      "presence available from bob@localhost/work",
    ]);
    // The probe goes from alice's bare JID, so bob's answer reaches every resource of hers.
    assert.deepEqual(alice.take(), [
      "presence available from alice@localhost/phone",
      "presence available from bob@localhost/work",
    ]);
    // Subsequent presence (§4.4) is broadcast but probes nobody.
    world.remoteTakes();
    await phone.send(`<presence><show>away</show></presence>`);
    assert.deepEqual(world.remoteTakes(), [
      `presence available from alice@localhost/phone to ${carol}`,
    ]);
  } finally {
    await world.stop();
  }
});

Deno.test("probes are answered with each resource's presence, or unavailable, or unsubscribed (§4.3.2)", async () => {
  const world = await scenario({ users: ["alice@localhost"] });
  try {
    const alice = await world.login("alice@localhost/home");
    await world.remoteSends(
      `<presence type="subscribe" from="dave@${REMOTE}" to="alice@localhost"/>`,
    );
    await alice.send(`<presence type="subscribed" to="dave@${REMOTE}"/>`);
    world.remoteTakes();
    // Subscribed, nobody available: unavailable from the bare JID.
    await world.remoteSends(
      `<presence type="probe" from="dave@${REMOTE}/x" to="alice@localhost"/>`,
    );
    assert.deepEqual(world.remoteTakes(), [
      `presence unavailable from alice@localhost to dave@${REMOTE}/x`,
    ]);
    await alice.send(`<presence><status>here</status></presence>`);
    world.remoteTakes();
    await world.remoteSends(
      `<presence type="probe" from="dave@${REMOTE}/x" to="alice@localhost"/>`,
    );
    const [answer] = world.remoteTakes();
    assert.equal(answer, `presence available from alice@localhost/home to dave@${REMOTE}/x`);
    // Not subscribed: unsubscribed, never her presence.
    await world.remoteSends(`<presence type="probe" from="eve@${REMOTE}" to="alice@localhost"/>`);
    assert.deepEqual(world.remoteTakes(), [
      `presence unsubscribed from alice@localhost to eve@${REMOTE}`,
    ]);
    // Probes never reach clients.
    assert.deepEqual(alice.take(), ["presence available from alice@localhost/home"]);
  } finally {
    await world.stop();
  }
});

Deno.test("directed presence is remembered and ended, and a closed session goes unavailable (§4.5, §4.6)", async () => {
  const world = await scenario({ users: ["alice@localhost", "bob@localhost"] });
  try {
    const alice = await world.login("alice@localhost/home");
    const other = await world.login("alice@localhost/other");
    const bob = await world.login("bob@localhost/work");
    await subscribe(bob, alice, "bob@localhost", "alice@localhost");
    await bob.send(`<presence/>`);
    await other.send(`<presence/>`);
    await alice.send(`<presence/>`);
    await alice.send(`<presence to="room@${REMOTE}/alice"/>`);
    for (const c of [alice, other, bob]) c.take();
    world.remoteTakes();

    await alice.close();
    assert.deepEqual(bob.take(), ["presence unavailable from alice@localhost/home"]);
    assert.deepEqual(other.take(), ["presence unavailable from alice@localhost/home"]);
    assert.deepEqual(world.remoteTakes(), [
      `presence unavailable from alice@localhost/home to room@${REMOTE}/alice`,
    ]);

    // Explicit unavailable ends directed presence too, and stops being available.
    await other.send(`<presence to="room@${REMOTE}/other"/>`);
    await other.send(`<presence type="unavailable"/>`);
    assert.deepEqual(world.remoteTakes(), [
      `presence available from alice@localhost/other to room@${REMOTE}/other`,
      `presence unavailable from alice@localhost/other to room@${REMOTE}/other`,
    ]);
    assert.deepEqual(bob.take(), ["presence unavailable from alice@localhost/other"]);
    // Presence to alice's bare JID now reaches no resource.
    await bob.send(`<presence to="alice@localhost"/>`);
    assert.deepEqual(other.take(), ["presence unavailable from alice@localhost/other"]);
  } finally {
    await world.stop();
  }
});

Deno.test("roster get, set and versions (RFC 6121 §2, XEP-0237)", async (t) => {
  const world = await scenario({ users: ["alice@localhost"] });
  try {
    const alice = await world.login("alice@localhost/home");
    const phone = await world.login("alice@localhost/phone");
    await alice.send(`<iq type="get" id="v0"><query xmlns="jabber:iq:roster" ver=""/></iq>`);
    const [first] = alice.takeElements();
    const ver0 = first.getChild("query")!.attrs.ver;
    assert.ok(ver0);
    await t.step("a set adds with name and groups and pushes to interested resources", async () => {
      await alice.send(
        `<iq type="set" id="s1"><query xmlns="jabber:iq:roster"><item jid="Bob@LocalHost" ` +
          `name="Bob" subscription="both"><group>Friends</group><group>Work</group></item>` +
          `</query></iq>`,
      );
      assert.deepEqual(alice.take(), [
        `roster push bob@localhost none "Bob" (Friends, Work)`,
        "iq result",
      ]);
      // The phone never asked for the roster: no push.
      assert.deepEqual(phone.take(), []);
    });
    await t.step("a get with the current version is answered empty", async () => {
      await alice.send(
        `<iq type="get" id="v1"><query xmlns="jabber:iq:roster" ver="${ver0}"/></iq>`,
      );
      const [full] = alice.takeElements();
      const ver1 = full.getChild("query")!.attrs.ver;
      assert.notEqual(ver1, ver0);
      assert.equal(full.getChild("query")!.getChildren("item").length, 1);
      await alice.send(
        `<iq type="get" id="v2"><query xmlns="jabber:iq:roster" ver="${ver1}"/></iq>`,
      );
      const [empty] = alice.takeElements();
      assert.equal(empty.attrs.type, "result");
      assert.equal(empty.elements.length, 0);
    });
    await t.step("invalid sets are refused (§2.3.3)", async () => {
      const set = (items: string) =>
        alice.send(`<iq type="set" id="bad"><query xmlns="jabber:iq:roster">${items}</query></iq>`);
      await set(`<item jid="a@localhost"/><item jid="b@localhost"/>`);
      await set(`<item jid="a@localhost"><group>G</group><group>G</group></item>`);
      await set(`<item jid="a@localhost"><group></group></item>`);
      await set(`<item jid="@localhost"/>`);
      await set(`<item jid="a@localhost" name="${"x".repeat(1024)}"/>`);
      await set(`<item jid="alice@localhost"/>`);
      assert.deepEqual(alice.take(), [
        "iq error bad-request",
        "iq error bad-request",
        "iq error not-acceptable",
        "iq error bad-request",
        "iq error not-acceptable",
        "iq error not-allowed",
      ]);
    });
  } finally {
    await world.stop();
  }
});
