import assert from "node:assert/strict";
import { idlePing } from "./idle_ping.ts";
import { smWorld } from "../_testing.ts";

Deno.test("idle-ping pings a silent session after the interval and ends it after the timeout", async () => {
  const world = await smWorld({
    features: [idlePing],
    config: `<ping interval="60s" timeout="10s"/>`,
  });
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

Deno.test("idle-ping keeps a session that answers or talks, and waits a full interval after", async () => {
  const world = await smWorld({
    features: [idlePing],
    config: `<ping interval="60s" timeout="10s"/>`,
  });
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
