// The c2s side of a stop with users online: the `server-stopping` phase closes every client
// stream and ends its session in the sm while the rest of the server still answers.
import assert from "node:assert/strict";
import { addUser, c2sWorld, login, rawClient, sectionOf } from "./_testing.ts";

Deno.test("c2s closes every stream with system-shutdown and ends its sessions in the sm when the server is stopping", async () => {
  await using world = await c2sWorld();
  await addUser(world, "alice");
  await addUser(world, "bob");
  const alice = await login(world, "alice", "phone");
  const bob = await login(world, "bob", "pc");
  const anonymous = await rawClient(world);
  anonymous.open();
  await anonymous.next(/<\/stream:features>/);
  const sessions = world.routes.filter((r) => r.attrs.type === "session");
  await sectionOf(world).stopping();
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
  await assert.rejects(rawClient(world), /Connection refused/);
  await world.settle();
});
