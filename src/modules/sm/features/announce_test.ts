import assert from "node:assert/strict";
import { announce } from "./announce.ts";
import { type SmWorld, smWorld } from "../_testing.ts";

const online = async (world: SmWorld, full: string) => {
  const session = world.bind(full);
  session.available = true;
  world.api.fire("session-available", { session });
  await world.settle();
  return session;
};

Deno.test("announce sends an admin's message to every online session; others get forbidden", async () => {
  const world = await smWorld({ features: [announce], config: `<admin>admin@localhost</admin>` });
  try {
    const admin = await online(world, "admin@localhost/desk");
    const alice = await online(world, "alice@localhost/phone");
    const bob = world.bind("bob@localhost/quiet");
    await world.send(
      `<message to="localhost/announce/online"><subject>Maintenance</subject><body>Down at 5</body></message>`,
      admin,
    );
    const [note] = world.take(alice);
    assert.equal(note.attrs.from, "localhost");
    assert.equal(note.getChildText("body"), "Down at 5");
    assert.equal(note.getChildText("subject"), "Maintenance");
    assert.equal(world.take(bob).length, 0);
    await world.send(`<message to="localhost/announce/online"><body>x</body></message>`, alice);
    assert.equal(world.take(alice)[0].getChild("error")!.elements[0].local, "forbidden");
  } finally {
    await world.stop();
  }
});

Deno.test("announce sends the MOTD once per session: config first, then the admin's", async () => {
  const world = await smWorld({
    features: [announce],
    config: `<admin>admin@localhost</admin><motd>Welcome!</motd>`,
  });
  try {
    const admin = await online(world, "admin@localhost/desk");
    assert.equal(world.take(admin)[0].getChildText("body"), "Welcome!");
    world.api.fire("session-available", { session: admin });
    await world.settle();
    assert.equal(world.take(admin).length, 0, "once per session");
    await world.send(
      `<message to="localhost/announce/motd/update"><body>New rules</body></message>`,
      admin,
    );
    assert.equal(world.take(admin).length, 0, "update does not send");
    const alice = await online(world, "alice@localhost/phone");
    assert.equal(world.take(alice)[0].getChildText("body"), "New rules");
    await world.send(`<message to="localhost/announce/motd/delete"/>`, admin);
    const bob = await online(world, "bob@localhost/pc");
    assert.equal(world.take(bob).length, 0, "deleted: not even the config's MOTD");
    const stored = await world.api.xdb.get("localhost", "jabberd:motd");
    assert.equal(stored?.text(), "");
  } finally {
    await world.stop();
  }
});
