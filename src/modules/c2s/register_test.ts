// In-band registration before login (XEP-0077 §3.1, §9.3), over raw clients on the memory net.
import assert from "node:assert/strict";
import { accountExists } from "../../accounts/store.ts";
import { type C2sWorld, c2sWorld, DOMAIN, rawClient } from "./_testing.ts";

/** Registration from loopback, at most 2 per address every 10 minutes. */
const REGISTER = `<register from="127.0.0.0/8" rate="2" per="10m"/>`;

async function securedClient(world: C2sWorld, from?: string) {
  const client = await rawClient(world, from);
  await client.starttls();
  client.open();
  const features = await client.next(/<\/stream:features>/);
  return { client, features };
}

const register = (id: string, user: string) =>
  `<iq type='set' id='${id}'><query xmlns='jabber:iq:register'><username>${user}</username>` +
  `<password>pw</password></query></iq>`;

Deno.test("c2s registration answers a get with the form: instructions, username, password", async () => {
  await using world = await c2sWorld(REGISTER);
  const { client } = await securedClient(world);
  client.send("<iq type='get' id='g1'><query xmlns='jabber:iq:register'/></iq>");
  const reply = await client.next(/<\/iq>/);
  assert.match(reply, /<iq type='result' id='g1'><query xmlns='jabber:iq:register'>/);
  assert.match(reply, /<instructions>[^<]+<\/instructions><username\/><password\/>/);
});

Deno.test("c2s registration from loopback creates the account", async () => {
  await using world = await c2sWorld(REGISTER);
  const { client, features } = await securedClient(world);
  assert.match(features, /<register xmlns=.http:\/\/jabber.org\/features\/iq-register.\/>/);
  client.send(register("r1", "erin"));
  assert.match(await client.next(/<iq[^>]*id=.r1.[^>]*(\/>|<\/iq>)/), /type=.result./);
  assert.equal(await accountExists(world.xdb, `erin@${DOMAIN}`), true);
});

Deno.test("c2s registration from outside the allowed ranges is refused with not-allowed", async () => {
  await using world = await c2sWorld(REGISTER);
  const { client, features } = await securedClient(world, "192.0.2.7");
  assert.doesNotMatch(features, /iq-register/);
  client.send(register("r1", "mallory"));
  const reply = await client.next(/<\/iq>/);
  assert.match(reply, /type=.error./);
  assert.match(reply, /<not-allowed xmlns=.urn:ietf:params:xml:ns:xmpp-stanzas.\/>/);
  assert.equal(await accountExists(world.xdb, `mallory@${DOMAIN}`), false);
});

Deno.test("c2s registration answers conflict for an existing account", async () => {
  await using world = await c2sWorld(REGISTER);
  const { client } = await securedClient(world);
  client.send(register("r1", "frank"));
  await client.next(/<iq[^>]*id=.r1.[^>]*(\/>|<\/iq>)/);
  client.send(register("r2", "Frank")); // the same account once the localpart is prepared
  const reply = await client.next(/<\/iq>/);
  assert.match(reply, /id=.r2./);
  assert.match(reply, /<conflict xmlns=.urn:ietf:params:xml:ns:xmpp-stanzas.\/>/);
});

Deno.test("c2s registration is rate-limited per address across connections, then allowed again", async () => {
  await using world = await c2sWorld(REGISTER);
  for (const [i, user] of ["g1", "g2"].entries()) {
    const { client } = await securedClient(world);
    client.send(register(`r${i}`, user));
    assert.match(await client.next(/<iq[^>]*id=.r\d.[^>]*(\/>|<\/iq>)/), /type=.result./);
  }
  const { client } = await securedClient(world);
  client.send(register("r3", "g3"));
  assert.match(await client.next(/<\/iq>/), /<resource-constraint /);
  // Another loopback address has its own allowance.
  const other = await securedClient(world, "127.0.0.9");
  other.client.send(register("r4", "g4"));
  assert.match(await other.client.next(/<iq[^>]*id=.r4.[^>]*(\/>|<\/iq>)/), /type=.result./);
  world.memory.clock.advance(10 * 60_000);
  const later = await securedClient(world);
  later.client.send(register("r5", "g3"));
  assert.match(await later.client.next(/<iq[^>]*id=.r5.[^>]*(\/>|<\/iq>)/), /type=.result./);
  assert.equal(await accountExists(world.xdb, `g3@${DOMAIN}`), true);
});

Deno.test("c2s registration answers conflict for a taken name even when the address used up its window", async () => {
  await using world = await c2sWorld(REGISTER);
  const { client } = await securedClient(world);
  client.send(register("r1", "henry"));
  await client.next(/<iq[^>]*id=.r1.[^>]*(\/>|<\/iq>)/);
  client.send(register("r2", "irene"));
  await client.next(/<iq[^>]*id=.r2.[^>]*(\/>|<\/iq>)/);
  client.send(register("r3", "henry"));
  const reply = await client.next(/<\/iq>/);
  assert.match(reply, /id=.r3./);
  assert.match(reply, /<conflict xmlns=.urn:ietf:params:xml:ns:xmpp-stanzas.\/>/);
});

Deno.test("c2s registration does not count a refused name toward the address's window", async () => {
  await using world = await c2sWorld(REGISTER);
  const { client } = await securedClient(world);
  client.send(register("r1", "jack"));
  await client.next(/<iq[^>]*id=.r1.[^>]*(\/>|<\/iq>)/);
  client.send(register("r2", "jack"));
  assert.match(await client.next(/<\/iq>/), /<conflict /);
  client.send(register("r3", "kate"));
  assert.match(await client.next(/<iq[^>]*id=.r3.[^>]*(\/>|<\/iq>)/), /type=.result./);
});
