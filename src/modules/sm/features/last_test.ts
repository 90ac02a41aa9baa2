import assert from "node:assert/strict";
import { xml } from "../../../xml/element.ts";
import { last } from "./last.ts";
import { smWorld } from "../_testing.ts";

const Q = `<query xmlns="jabber:iq:last"/>`;

Deno.test("last answers the server's uptime for an iq to the host", async () => {
  const world = await smWorld({ features: [last] });
  try {
    world.clock.advance(90_500);
    await world.send(`<iq type="get" id="l1" from="bob@example.org/x" to="localhost">${Q}</iq>`);
    assert.equal(world.remote[0].getChild("query", "jabber:iq:last")!.attrs.seconds, "90");
  } finally {
    await world.stop();
  }
});

Deno.test("last gives a user's last logout and status to subscribed contacts only", async () => {
  const world = await smWorld({ features: [last] });
  try {
    await world.addUser("alice@localhost");
    await world.api.xdb.set(
      "alice@localhost",
      "jabber:iq:roster",
      xml(
        "query",
        { xmlns: "jabber:iq:roster" },
        xml("item", { jid: "bob@example.org", subscription: "from" }),
        xml("item", { jid: "carol@example.org", subscription: "to" }),
      ),
    );
    const phone = world.bind("alice@localhost/phone");
    const pc = world.bind("alice@localhost/pc");
    const asks = (from: string, id: string) =>
      world.send(`<iq type="get" id="${id}" from="${from}/x" to="alice@localhost">${Q}</iq>`);
    await asks("bob@example.org", "online");
    await world.send(`<presence type="unavailable"><status>Gone fishing</status></presence>`, pc);
    world.unbind(pc);
    world.clock.advance(10_000);
    world.unbind(phone);
    await world.settle();
    world.clock.advance(42_000);
    await asks("bob@example.org", "bob");
    await asks("carol@example.org", "carol");
    const [online, bob, carol] = world.remote;
    assert.equal(online.getChild("query")!.attrs.seconds, "0");
    assert.equal(bob.getChild("query")!.attrs.seconds, "42");
    assert.equal(bob.getChild("query")!.text(), "", "the last session to end had no status");
    assert.equal(carol.getChild("error")!.elements[0].local, "forbidden");
  } finally {
    await world.stop();
  }
});

Deno.test("last keeps the status of the last session's unavailable presence", async () => {
  const world = await smWorld({ features: [last] });
  try {
    const alice = world.bind("alice@localhost/phone");
    await world.send(
      `<presence type="unavailable"><status>Gone fishing</status></presence>`,
      alice,
    );
    world.unbind(alice);
    await world.settle();
    const stored = await world.api.xdb.get("alice@localhost", "jabber:iq:last");
    assert.equal(stored?.text(), "Gone fishing");
    const other = world.bind("alice@localhost/tab");
    await world.send(`<iq type="get" id="self">${Q}</iq>`, other);
    assert.equal(world.take(other)[0].getChild("query")!.attrs.seconds, "0");
  } finally {
    await world.stop();
  }
});
