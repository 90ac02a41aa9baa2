// The RFC 6120 §8.1–§8.2 rules c2s checks on a client's stanzas before any step takes them.
import assert from "node:assert/strict";
import {
  addUser,
  type C2sWorld,
  c2sWorld,
  login,
  type RawClient,
  rawClient,
  scramLogin,
} from "./_testing.ts";

/** Runs `body` with alice bound as `phone` on a fresh `c2sWorld()`, stopped afterwards. */
async function withBound(body: (world: C2sWorld, client: RawClient) => Promise<void>) {
  await using world = await c2sWorld();
  await addUser(world, "alice");
  await body(world, await login(world, "alice", "phone"));
}

const badRequest = /<bad-request xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'\/>/;

Deno.test("c2s answers an iq without id with bad-request, as Prosody does (RFC 6120 §8.1.3)", async () => {
  await withBound(async (world, client) => {
    const routed = world.routes.length;
    client.send("<iq type='get' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
    const reply = await client.next(/<\/iq>/);
    assert.match(reply, /^<iq [^>]*type='error'/);
    assert.doesNotMatch(reply, /id=/);
    assert.match(reply, badRequest);
    assert.equal(world.routes.length, routed, "the iq never reached the sm");
  });
});

Deno.test("c2s drops an iq result without id instead of answering it", async () => {
  await withBound(async (world, client) => {
    const routed = world.routes.length;
    client.send("<iq type='result' to='localhost'/>");
    client.send("<message to='bob@localhost' id='after'/>");
    assert.match(await client.next(/<message[^>]*id='after'[^>]*\/>/), /^<message/);
    assert.equal(world.routes.length, routed + 1, "only the message was routed");
  });
});

Deno.test("c2s answers an iq of an unknown type with bad-request", async () => {
  await withBound(async (_world, client) => {
    client.send("<iq type='fetch' id='t1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>");
    const reply = await client.next(/<\/iq>/);
    assert.match(reply, /id='t1'/);
    assert.match(reply, badRequest);
  });
});

Deno.test("c2s answers a get with two children with bad-request (RFC 6120 §8.2.3)", async () => {
  await withBound(async (world, client) => {
    const routed = world.routes.length;
    client.send(
      "<iq type='get' id='two' to='localhost'><ping xmlns='urn:xmpp:ping'/>" +
        "<query xmlns='jabber:iq:version'/></iq>",
    );
    assert.match(await client.next(/<\/iq>/), badRequest);
    assert.equal(world.routes.length, routed);
  });
});

Deno.test("c2s answers a <bind> iq with two children with bad-request (RFC 6120 §8.2.3)", async () => {
  await using world = await c2sWorld();
  await addUser(world, "alice");
  const client = await rawClient(world);
  await client.starttls();
  client.open();
  await client.next(/<\/stream:features>/);
  assert.match(await scramLogin(client, "SCRAM-SHA-256", "alice", "secret"), /<success/);
  client.open();
  await client.next(/<\/stream:features>/);
  client.send(
    "<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>" +
      "<resource>phone</resource></bind><query xmlns='jabber:iq:version'/></iq>",
  );
  assert.match(await client.next(/<\/iq>/), badRequest);
  client.send(
    "<iq type='set' id='b2'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>" +
      "<resource>phone</resource><resource>pc</resource></bind></iq>",
  );
  assert.match(await client.next(/<\/iq>/), badRequest);
  await world.settle();
  assert.equal(world.routes.filter((r) => r.attrs.type === "session").length, 0);
  // The stream is still usable: a proper bind works.
  client.send(
    "<iq type='set' id='b3'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>" +
      "<resource>phone</resource></bind></iq>",
  );
  assert.match(await client.next(/<\/iq>/), /<jid>alice@localhost\/phone<\/jid>/);
});
