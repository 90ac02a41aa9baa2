import assert from "node:assert/strict";
import { ping } from "./ping.ts";
import { smWorld } from "../_testing.ts";

Deno.test("ping answers a ping to the host and one without to", async () => {
  const world = await smWorld({ features: [ping] });
  try {
    const alice = world.bind("alice@localhost/phone");
    await world.send(
      `<iq type="get" id="p1" to="localhost"><ping xmlns="urn:xmpp:ping"/></iq>`,
      alice,
    );
    await world.send(`<iq type="get" id="p2"><ping xmlns="urn:xmpp:ping"/></iq>`, alice);
    const replies = world.take(alice);
    assert.deepEqual(replies.map((r) => [r.attrs.type, r.attrs.id]), [["result", "p1"], [
      "result",
      "p2",
    ]]);
    assert.equal(replies[0].elements.length, 0);
  } finally {
    await world.stop();
  }
});

Deno.test("ping answers a ping to a user's bare JID for the account, online or not", async () => {
  const world = await smWorld({ features: [ping] });
  try {
    await world.addUser("alice@localhost");
    await world.addUser("bob@localhost");
    const bob = world.bind("bob@localhost/pc");
    const PING = `<ping xmlns="urn:xmpp:ping"/>`;
    await world.send(`<iq type="get" id="own" to="bob@localhost">${PING}</iq>`, bob);
    await world.send(`<iq type="get" id="other" to="alice@localhost">${PING}</iq>`, bob);
    await world.send(
      `<iq type="get" id="remote" from="carol@example.org/x" to="alice@localhost">${PING}</iq>`,
    );
    await world.send(
      `<iq type="get" id="nobody" from="carol@example.org/x" to="zed@localhost">${PING}</iq>`,
    );
    assert.deepEqual(world.take(bob).map((r) => [r.attrs.id, r.attrs.type]), [
      ["own", "result"],
      ["other", "result"],
    ]);
    assert.deepEqual(world.remote.map((r) => [r.attrs.id, r.attrs.type]), [
      ["remote", "result"],
      ["nobody", "error"],
    ]);
  } finally {
    await world.stop();
  }
});
