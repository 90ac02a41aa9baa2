/**
 * The whole server over raw streams, where a client library would hide the server's answer:
 * admin announcements, the message of the day, offline messages across a restart, and a client
 * that drops mid-stanza without disturbing anyone else.
 */
import assert from "node:assert/strict";
import { testServer } from "../src/server/_testing.ts";
import { addUser, c2sServerConfig, login } from "../src/modules/c2s/_testing.ts";

/** A whole server on the memory adapters; `sm` holds extra `<sm>` settings. */
function serverWorld(sm = "") {
  return testServer(c2sServerConfig("", { sm }));
}

Deno.test("an admin's announcement to host/announce/online reaches every online session", async () => {
  await using world = await serverWorld("<admin>boss@localhost</admin>");
  await addUser(world, "boss");
  await addUser(world, "bob");
  const bob = await login(world, "bob");
  bob.send("<presence/>");
  const boss = await login(world, "boss");
  boss.send(
    "<message to='localhost/announce/online' id='a1'><body>Maintenance at noon</body></message>",
  );
  const got = await bob.next(/Maintenance at noon<\/body><\/message>/);
  assert.match(got, /<message[^>]* from='localhost'/);
});

Deno.test("a non-admin's announcement is refused with forbidden", async () => {
  await using world = await serverWorld("<admin>boss@localhost</admin>");
  await addUser(world, "mallory");
  const mallory = await login(world, "mallory");
  mallory.send(
    "<message to='localhost/announce/online' id='a2'><body>Free coins</body></message>",
  );
  const answer = await mallory.next(/<\/message>/);
  assert.match(answer, /type='error'/);
  assert.match(answer, /<forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'\/>/);
});

Deno.test("the message of the day arrives with a session's first available presence", async () => {
  await using world = await serverWorld("<motd>Welcome to the team server</motd>");
  await addUser(world, "carol");
  const carol = await login(world, "carol");
  carol.send("<presence/>");
  const motd = await carol.next(/Welcome to the team server<\/body>/);
  assert.match(motd, /<message[^>]* from='localhost'/);
});

Deno.test("a message accepted for an offline user survives a restart and arrives with delay", async () => {
  await using world = await serverWorld();
  await addUser(world, "alice");
  await addUser(world, "bob");
  const alice = await login(world, "alice");
  alice.send(
    "<message to='bob@localhost' type='chat' id='m1'><body>While you were out</body></message>",
  );
  // Nothing comes back for it: once the ping sent after it is answered, the message was
  // accepted, and a clean stop must not lose it.
  alice.send("<iq type='get' to='localhost' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>");
  await alice.next(/<iq[^>]*id='p1'[^>]*\/>/);
  await world.restart();
  const bob = await login(world, "bob");
  bob.send("<presence/>");
  const got = await bob.next(/While you were out<\/body>.*?<\/message>/s);
  assert.match(got, /from='alice@localhost\/r'/);
  assert.match(got, /<delay xmlns='urn:xmpp:delay' from='localhost' stamp='/);
});

Deno.test("a client that disconnects mid-stanza takes no other session down", async () => {
  await using world = await serverWorld();
  await addUser(world, "alice");
  await addUser(world, "bob");
  await addUser(world, "dave");
  const alice = await login(world, "alice");
  const bob = await login(world, "bob");
  const dave = await login(world, "dave");
  dave.send("<message to='bob@localhost' type='chat'><body>half a sta");
  dave.conn.close();
  await dave.closed();
  alice.send(
    "<message to='bob@localhost/r' type='chat' id='m2'><body>still here</body></message>",
  );
  assert.match(await bob.next(/still here<\/body>.*?<\/message>/s), /from='alice@localhost\/r'/);
  assert.doesNotMatch(bob.text, /half a sta/);
});
