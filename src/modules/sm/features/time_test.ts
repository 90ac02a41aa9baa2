import assert from "node:assert/strict";
import { time, utcStamp, zoneOffset } from "./time.ts";
import { smWorld } from "../_testing.ts";

Deno.test("time answers an iq to the host with the clock's UTC time and the zone offset", async () => {
  const world = await smWorld({ features: [time] });
  try {
    const alice = world.bind("alice@localhost/phone");
    await world.send(
      `<iq type="get" id="t1" to="localhost"><time xmlns="urn:xmpp:time"/></iq>`,
      alice,
    );
    const [reply] = world.take(alice);
    const payload = reply.getChild("time", "urn:xmpp:time")!;
    assert.equal(payload.getChildText("utc"), "2024-05-17T08:30:05Z");
    assert.match(payload.getChildText("tzo")!, /^[+-]\d\d:\d\d$/);
    assert.equal(payload.getChildText("tzo"), zoneOffset(world.clock.now()));
  } finally {
    await world.stop();
  }
});

Deno.test("utcStamp() drops the milliseconds", () => {
  assert.equal(utcStamp(Date.UTC(2020, 0, 2, 3, 4, 5, 678)), "2020-01-02T03:04:05Z");
});
