import assert from "node:assert/strict";
import { ping } from "./ping.ts";
import { smWorld } from "./testing.ts";

Deno.test("ping answers a ping to the host and one without to", async () => {
  const world = await smWorld([ping]);
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

Deno.test("ping pings a silent session after the interval and ends it after the timeout", async () => {
  const world = await smWorld([ping], { config: `<ping interval="60s" timeout="10s"/>` });
  try {
    const alice = world.bind("alice@localhost/phone");
    world.clock.advance(59_000);
    assert.equal(world.take(alice).length, 0);
    world.clock.advance(1_000);
    const [probe] = world.take(alice);
    assert.equal(probe.attrs.type, "get");
    assert.equal(probe.attrs.to, "alice@localhost/phone");
    assert.ok(probe.getChild("ping", "urn:xmpp:ping"));
    world.clock.advance(9_999);
    assert.equal(world.ended.length, 0);
    world.clock.advance(1);
    assert.deepEqual(world.ended.map((e) => [e.session, e.reason]), [[alice, "ping-timeout"]]);
    assert.equal(world.clock.pending, 0);
  } finally {
    await world.stop();
  }
});

Deno.test("ping keeps a session that answers or talks, and waits a full interval after", async () => {
  const world = await smWorld([ping], { config: `<ping interval="60s" timeout="10s"/>` });
  try {
    const alice = world.bind("alice@localhost/phone");
    world.clock.advance(30_000);
    await world.send(`<message to="bob@example.org" type="chat"><body>hi</body></message>`, alice);
    world.clock.advance(30_000);
    assert.equal(world.take(alice).length, 0, "talked 30 s ago: no ping yet");
    world.clock.advance(30_000);
    const [probe] = world.take(alice);
    world.clock.advance(5_000);
    await world.send(`<iq type="result" id="${probe.attrs.id}" to="localhost"/>`, alice);
    world.clock.advance(10_000);
    assert.equal(world.ended.length, 0);
    world.clock.advance(50_000);
    assert.equal(world.take(alice).length, 1, "pinged again a full interval after the answer");
    world.unbind(alice);
    assert.equal(world.clock.pending, 0);
  } finally {
    await world.stop();
  }
});
