// The RFC 5802 §6 downgrade check against clients that bind to another channel binding type.
import assert from "node:assert/strict";
import { addUser, type C2sWorld, c2sWorld, rawClient } from "./_testing.ts";

const auth = (mechanism: string, gs2: string) =>
  `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='${mechanism}'>${
    new TextEncoder().encode(`${gs2}n=alice,r=abcdefgh`).toBase64()
  }</auth>`;
const answer = /<\/challenge>|<\/failure>/;

async function tlsClient(world: C2sWorld) {
  const client = await rawClient(world);
  await client.starttls();
  client.open();
  await client.next(/<\/stream:features>/);
  return client;
}

Deno.test("c2s refuses the y flag when it offered -PLUS (a stripped -PLUS, RFC 5802 §6)", async () => {
  await using world = await c2sWorld();
  await addUser(world, "alice");
  const client = await tlsClient(world);
  client.send(auth("SCRAM-SHA-256", "y,,"));
  assert.match(await client.next(answer), /<not-authorized\/>/);
});

Deno.test("c2s accepts the y flag after the client tried -PLUS with another binding type", async () => {
  await using world = await c2sWorld();
  await addUser(world, "alice");
  const client = await tlsClient(world);
  client.send(auth("SCRAM-SHA-256-PLUS", "p=tls-unique,,"));
  assert.match(await client.next(answer), /<malformed-request\/>.*tls-server-end-point/);
  client.send(auth("SCRAM-SHA-1-PLUS", "p=tls-unique,,"));
  assert.match(await client.next(answer), /<malformed-request\/>/);
  // Two refusals that do not count toward auth-attempts (3): the stream is still open.
  client.send(auth("SCRAM-SHA-256", "y,,"));
  assert.match(await client.next(answer), /<challenge /);
});
