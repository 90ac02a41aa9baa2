// How c2s reacts when the session manager or storage goes away: the stream error a session ends
// with, and SASL's temporary-auth-failure that keeps the stream open.
import assert from "node:assert/strict";
import { sessionEndError } from "./session.ts";
import { addUser, c2sWorld, login, rawClient, scramLogin } from "./_testing.ts";

Deno.test("sessionEndError() maps the sm's reason to a stream error", () => {
  assert.deepEqual(sessionEndError("conflict", undefined)[0], "conflict");
  assert.deepEqual(sessionEndError("not-authorized", "Account deleted"), [
    "not-authorized",
    "Account deleted",
  ]);
  assert.deepEqual(sessionEndError("service-unavailable", "System shutdown"), [
    "system-shutdown",
    "System shutdown",
  ]);
  assert.equal(sessionEndError(undefined, undefined)[0], "system-shutdown", "a router bounce");
  assert.equal(sessionEndError("remote-server-timeout", undefined)[0], "connection-timeout");
  assert.equal(sessionEndError("undefined-condition", undefined)[0], "undefined-condition");
  assert.equal(sessionEndError("gone", undefined)[0], "undefined-condition");
});

Deno.test("c2s ends a session with system-shutdown when its session manager is gone", async () => {
  await using world = await c2sWorld();
  await addUser(world, "alice");
  const client = await login(world, "alice", "phone");
  await world.router.removeInstance("sm");
  client.send(`<message to='bob@localhost'><body>hi</body></message>`);
  const answer = await client.next(/<\/stream:stream>/);
  assert.match(answer, /<system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'\/>/);
});

Deno.test("c2s answers SASL with temporary-auth-failure when storage cannot answer, and keeps the stream", async () => {
  await using world = await c2sWorld();
  await addUser(world, "alice");
  await world.router.removeInstance("xdb");
  const client = await rawClient(world);
  await client.starttls();
  client.open();
  await client.next(/<\/stream:features>/);
  const first = await scramLogin(client, "SCRAM-SHA-256", "alice", "secret");
  assert.match(
    first,
    /<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><temporary-auth-failure\/>/,
  );
  // The stream is still open: the client may try again.
  client.send(`<iq type='get' id='x'><query xmlns='jabber:iq:register'/></iq>`);
  assert.match(await client.next(/<\/iq>/), /id='x'/);
});
