/**
 * The whole server over raw streams, where a client library would hide the server's answer:
 * admin announcements, the message of the day, offline messages across a restart, and a client
 * that drops mid-stanza without disturbing anyone else.
 */
import assert from "node:assert/strict";
import { serverConfig, serverWorld } from "./server_world.ts";

Deno.test("an admin's announcement to host/announce/online reaches every online session", async () => {
  const world = await serverWorld(serverConfig("<admin>boss@localhost</admin>"));
  try {
    await world.addUser("boss");
    await world.addUser("bob");
    const bob = await world.login("bob");
    bob.send("<presence/>");
    const boss = await world.login("boss");
    boss.send(
      "<message to='localhost/announce/online' id='a1'><body>Maintenance at noon</body></message>",
    );
    const got = await bob.next(/Maintenance at noon<\/body><\/message>/);
    assert.match(got, /<message[^>]* from='localhost'/);
  } finally {
    await world.stop();
  }
});

Deno.test("a non-admin's announcement is refused with forbidden", async () => {
  const world = await serverWorld(serverConfig("<admin>boss@localhost</admin>"));
  try {
    await world.addUser("mallory");
    const mallory = await world.login("mallory");
    mallory.send(
      "<message to='localhost/announce/online' id='a2'><body>Free coins</body></message>",
    );
    const answer = await mallory.next(/<\/message>/);
    assert.match(answer, /type='error'/);
    assert.match(answer, /<forbidden xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'\/>/);
  } finally {
    await world.stop();
  }
});

Deno.test("the message of the day arrives with a session's first available presence", async () => {
  const world = await serverWorld(serverConfig("<motd>Welcome to the team server</motd>"));
  try {
    await world.addUser("carol");
    const carol = await world.login("carol");
    carol.send("<presence/>");
    const motd = await carol.next(/Welcome to the team server<\/body>/);
    assert.match(motd, /<message[^>]* from='localhost'/);
  } finally {
    await world.stop();
  }
});

Deno.test("a message accepted for an offline user survives a restart and arrives with delay", async () => {
  const world = await serverWorld();
  try {
    await world.addUser("alice");
    await world.addUser("bob");
    const alice = await world.login("alice");
    alice.send(
      "<message to='bob@localhost' type='chat' id='m1'><body>While you were out</body></message>",
    );
    // Nothing comes back for it: once the ping sent after it is answered, the message was
    // accepted, and a clean stop must not lose it.
    alice.send("<iq type='get' to='localhost' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>");
    await alice.next(/<iq[^>]*id='p1'[^>]*\/>/);
    await world.stop();
    await world.start();
    const bob = await world.login("bob");
    bob.send("<presence/>");
    const got = await bob.next(/While you were out<\/body>.*?<\/message>/s);
    assert.match(got, /from='alice@localhost\/r'/);
    assert.match(got, /<delay xmlns='urn:xmpp:delay' from='localhost' stamp='/);
  } finally {
    await world.stop();
  }
});

Deno.test("a client that disconnects mid-stanza takes no other session down", async () => {
  const world = await serverWorld();
  try {
    await world.addUser("alice");
    await world.addUser("bob");
    await world.addUser("dave");
    const alice = await world.login("alice");
    const bob = await world.login("bob");
    const dave = await world.login("dave");
    dave.send("<message to='bob@localhost' type='chat'><body>half a sta");
    dave.conn.close();
    await dave.closed();
    alice.send(
      "<message to='bob@localhost/r' type='chat' id='m2'><body>still here</body></message>",
    );
    assert.match(await bob.next(/still here<\/body><\/message>/), /from='alice@localhost\/r'/);
    assert.doesNotMatch(bob.text, /half a sta/);
  } finally {
    await world.stop();
  }
});
