// The c2s side of a stop with users online: the `server-stopping` phase closes every client
// stream and ends its session in the sm while the rest of the server still answers.
import assert from "node:assert/strict";
import { addUser, boundClient, c2sWorld, CONFIG, rawClient, settle } from "./testing.ts";

Deno.test("c2s closes every stream with system-shutdown and ends its sessions in the sm when the server is stopping", async () => {
  const world = await c2sWorld(CONFIG());
  try {
    await addUser(world.xdb, "alice", "pw");
    await addUser(world.xdb, "bob", "pw");
    const alice = await boundClient(world, "alice", "pw", "phone");
    const bob = await boundClient(world, "bob", "pw", "pc");
    const anonymous = await rawClient(world);
    anonymous.open();
    await anonymous.next(/<\/stream:features>/);
    const sessions = world.routes.filter((r) => r.attrs.type === "session");
    await world.c2s.stopping();
    for (const client of [alice, bob, anonymous]) {
      assert.match(
        await client.next(/<\/stream:stream>/),
        /<system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'\/>/,
      );
      await client.closed();
    }
    // The sm was told through the normal route-error path, one per session, before c2s stopped.
    const ends = world.routes.filter((r) => r.attrs.type === "error");
    assert.deepEqual(
      ends.map((r) => r.attrs.from).sort(),
      sessions.map((r) => r.attrs.from).sort(),
    );
    // No new client gets in while the rest of the server stops.
    await assert.rejects(rawClient(world));
    await settle();
  } finally {
    await world.stop();
  }
});
