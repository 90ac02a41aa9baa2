import assert from "node:assert/strict";
import { scenario } from "./harness.ts";

Deno.test("alice and bob on one host subscribe to each other (RFC 6121 §3.1)", async () => {
  const world = await scenario({ users: ["alice@localhost", "bob@localhost"] });
  try {
    const alice = await world.login("alice@localhost/home");
    const bob = await world.login("bob@localhost/work");
    await alice.send(`<iq type="get" id="r1"><query xmlns="jabber:iq:roster"/></iq>`);
    await bob.send(`<iq type="get" id="r1"><query xmlns="jabber:iq:roster"/></iq>`);
    assert.deepEqual(alice.take(), ["roster []"]);
    assert.deepEqual(bob.take(), ["roster []"]);
    await alice.send(`<presence/>`);
    await bob.send(`<presence/>`);
    assert.deepEqual(alice.take(), ["presence available from alice@localhost/home"]);
    assert.deepEqual(bob.take(), ["presence available from bob@localhost/work"]);

    await alice.send(`<presence type="subscribe" to="bob@localhost"/>`);
    assert.deepEqual(alice.take(), ["roster push bob@localhost none ask"]);
    assert.deepEqual(bob.take(), ["presence subscribe from alice@localhost"]);

    await bob.send(`<presence type="subscribed" to="alice@localhost"/>`);
    assert.deepEqual(bob.take(), ["roster push alice@localhost from"]);
    assert.deepEqual(alice.take(), [
      "roster push bob@localhost to",
      "presence subscribed from bob@localhost",
      "presence available from bob@localhost/work",
    ]);
  } finally {
    await world.stop();
  }
});

/** Alice and bob, each subscribed to the other, both online with a roster and presence. */
async function friends() {
  const world = await scenario({ users: ["alice@localhost", "bob@localhost"] });
  const alice = await world.login("alice@localhost/home");
  const bob = await world.login("bob@localhost/work");
  for (const client of [alice, bob]) {
    await client.send(`<iq type="get" id="r1"><query xmlns="jabber:iq:roster"/></iq>`);
    await client.send(`<presence/>`);
  }
  await alice.send(`<presence type="subscribe" to="bob@localhost"/>`);
  await bob.send(`<presence type="subscribed" to="alice@localhost"/>`);
  await bob.send(`<presence type="subscribe" to="alice@localhost"/>`);
  await alice.send(`<presence type="subscribed" to="bob@localhost"/>`);
  alice.take();
  bob.take();
  return { world, alice, bob };
}

Deno.test("a subscription request waits for an offline contact and comes on initial presence", async () => {
  const world = await scenario({ users: ["alice@localhost", "bob@localhost"] });
  try {
    const alice = await world.login("alice@localhost/home");
    await alice.send(
      `<presence type="subscribe" to="bob@localhost"><status>Hi!</status></presence>`,
    );
    const bob = await world.login("bob@localhost/work");
    assert.deepEqual(bob.take(), []);
    await bob.send(`<presence/>`);
    const [echo, request] = bob.takeElements();
    assert.equal(echo.attrs.from, "bob@localhost/work");
    assert.equal(request.attrs.type, "subscribe");
    assert.equal(request.attrs.from, "alice@localhost");
    assert.equal(request.getChildText("status"), "Hi!");
    // Still pending until answered: the next login gets it again (§3.1.3).
    const again = await world.login("bob@localhost/phone");
    await again.send(`<presence/>`);
    assert.ok(again.take().includes("presence subscribe from alice@localhost"));
    await bob.send(`<presence type="subscribed" to="alice@localhost"/>`);
    const third = await world.login("bob@localhost/tablet");
    await third.send(`<presence/>`);
    assert.ok(!third.take().includes("presence subscribe from alice@localhost"));
  } finally {
    await world.stop();
  }
});

Deno.test("a pre-approved subscription request is answered by the server (RFC 6121 §3.4)", async () => {
  const world = await scenario({ users: ["alice@localhost", "bob@localhost"] });
  try {
    const bob = await world.login("bob@localhost/work");
    await bob.send(`<iq type="get" id="r1"><query xmlns="jabber:iq:roster"/></iq>`);
    await bob.send(`<presence/>`);
    bob.take();
    await bob.send(`<presence type="subscribed" to="alice@localhost"/>`);
    assert.deepEqual(bob.take(), ["roster push alice@localhost none approved"]);

    const alice = await world.login("alice@localhost/home");
    await alice.send(`<iq type="get" id="r1"><query xmlns="jabber:iq:roster"/></iq>`);
    await alice.send(`<presence/>`);
    alice.take();
    await alice.send(`<presence type="subscribe" to="alice@localhost"/>`); // to oneself: ignored
    await alice.send(`<presence type="subscribe" to="bob@localhost"/>`);
    // Bob's clients see no request, only the new state.
    assert.deepEqual(bob.take(), ["roster push alice@localhost from"]);
    assert.deepEqual(alice.take(), [
      "roster push bob@localhost none ask",
      "roster push bob@localhost to",
      "presence subscribed from bob@localhost",
      "presence available from bob@localhost/work",
    ]);
  } finally {
    await world.stop();
  }
});

Deno.test("'unsubscribed' cancels a pre-approval", async () => {
  const world = await scenario({ users: ["alice@localhost", "bob@localhost"] });
  try {
    const bob = await world.login("bob@localhost/work");
    await bob.send(`<iq type="get" id="r1"><query xmlns="jabber:iq:roster"/></iq>`);
    await bob.send(`<presence type="subscribed" to="alice@localhost"/>`);
    await bob.send(`<presence type="unsubscribed" to="alice@localhost"/>`);
    assert.deepEqual(
      bob.take(),
      [
        "roster [] ",
        "roster push alice@localhost none approved",
        "roster push alice@localhost none",
      ].map((l) => l.trim()),
    );
    await bob.send(`<presence/>`);
    bob.take();
    const alice = await world.login("alice@localhost/home");
    await alice.send(`<presence type="subscribe" to="bob@localhost"/>`);
    assert.deepEqual(bob.take(), ["presence subscribe from alice@localhost"]);
  } finally {
    await world.stop();
  }
});

Deno.test("unsubscribe and unsubscribed end each direction (RFC 6121 §3.2, §3.3)", async (t) => {
  await t.step("bob cancels alice's subscription: alice sees him go away", async () => {
    const { world, alice, bob } = await friends();
    try {
      await bob.send(`<presence type="unsubscribed" to="alice@localhost"/>`);
      assert.deepEqual(bob.take(), ["roster push alice@localhost to"]);
      assert.deepEqual(alice.take(), [
        "presence unavailable from bob@localhost/work",
        "roster push bob@localhost from",
        "presence unsubscribed from bob@localhost",
      ]);
      // Bob's broadcasts no longer reach alice; hers still reach him.
      await bob.send(`<presence><show>away</show></presence>`);
      assert.deepEqual(alice.take(), []);
      assert.deepEqual(bob.take(), ["presence available from bob@localhost/work"]);
      await alice.send(`<presence><show>dnd</show></presence>`);
      assert.deepEqual(bob.take(), ["presence available from alice@localhost/home"]);
    } finally {
      await world.stop();
    }
  });
  await t.step("alice unsubscribes from bob: bob's server sends his unavailable", async () => {
    const { world, alice, bob } = await friends();
    try {
      await alice.send(`<presence type="unsubscribe" to="bob@localhost"/>`);
      assert.deepEqual(alice.take(), [
        "roster push bob@localhost from",
        "presence unavailable from bob@localhost/work",
      ]);
      assert.deepEqual(bob.take(), [
        "roster push alice@localhost to",
        "presence unsubscribe from alice@localhost",
      ]);
    } finally {
      await world.stop();
    }
  });
});

Deno.test("removing a roster item cancels both directions (RFC 6121 §2.5.2)", async () => {
  const { world, alice, bob } = await friends();
  try {
    await alice.send(
      `<iq type="set" id="rm"><query xmlns="jabber:iq:roster">` +
        `<item jid="bob@localhost" subscription="remove"/></query></iq>`,
    );
    // Bob's unavailable presence comes from his side's handling of the unsubscribe, which runs
    // alongside Alice's own roster write: RFC 6121 §2.5.2 orders neither before the other.
    assert.deepEqual(alice.take().sort(), [
      "iq result",
      "presence unavailable from bob@localhost/work",
      "roster push bob@localhost remove",
    ]);
    assert.deepEqual(bob.take(), [
      "roster push alice@localhost to",
      "presence unsubscribe from alice@localhost",
      "presence unavailable from alice@localhost/home",
      "roster push alice@localhost none",
      "presence unsubscribed from alice@localhost",
    ]);
    await alice.send(`<iq type="get" id="r2"><query xmlns="jabber:iq:roster"/></iq>`);
    assert.deepEqual(alice.take(), ["roster []"]);
    await alice.send(
      `<iq type="set" id="rm2"><query xmlns="jabber:iq:roster">` +
        `<item jid="bob@localhost" subscription="remove"/></query></iq>`,
    );
    assert.deepEqual(alice.take(), ["iq error item-not-found"]);
  } finally {
    await world.stop();
  }
});
