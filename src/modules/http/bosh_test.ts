import assert from "node:assert/strict";
import { testServer } from "../../server/_testing.ts";
import { addUser, login } from "../c2s/_testing.ts";
import { ADMIN_TOKEN, BoshClient, boshLogin, httpServerConfig, httpUrl } from "./_testing.ts";

Deno.test("BoshSessions creates a session with its attributes and the stream features (XEP-0206 §4)", async () => {
  await using world = await testServer(httpServerConfig());
  const client = new BoshClient(world);
  const created = await client.create(undefined, "wait='600' hold='3'");
  assert.match(created, /^<body xmlns='http:\/\/jabber.org\/protocol\/httpbind'/);
  assert.match(created, / sid='[A-Za-z0-9]{16,}'/);
  assert.match(created, / wait='60' hold='1' requests='2'/, "wait and hold capped by the config");
  assert.match(created, / xmpp:version='1.0'/);
  assert.match(created, /<stream:features xmlns:stream='http:\/\/etherx.jabber.org\/streams'>/);
  assert.match(created, /<mechanism>SCRAM-SHA-1<\/mechanism>/);
  assert.doesNotMatch(created, /starttls/);
});

Deno.test("a BOSH client logs in, restarts, binds and chats with a TCP client", async () => {
  await using world = await testServer(httpServerConfig());
  await addUser(world, "alice");
  await addUser(world, "bob");
  const alice = await boshLogin(world, "alice", "bosh");
  const bob = await login(world, "bob", "tcp");
  alice.send(
    "<message xmlns='jabber:client' to='bob@localhost/tcp' type='chat'><body>over bosh</body></message>",
  );
  assert.match(await bob.next(/<\/message>/), /from='alice@localhost\/bosh'.*over bosh/);
  bob.send("<message to='alice@localhost/bosh' type='chat'><body>to bosh</body></message>");
  const got = await alice.next(/to bosh/);
  assert.match(got, /<message xmlns='jabber:client'[^>]*from='bob@localhost\/tcp'/);
});

Deno.test("BoshSessions answers a repeated rid with the same response (XEP-0124 §14.3)", async () => {
  await using world = await testServer(httpServerConfig());
  await addUser(world, "alice");
  const alice = await boshLogin(world, "alice");
  const rid = alice.rid + 1;
  const first = await alice.post(
    `sid='${alice.sid}' rid='${rid}'`,
    "<iq xmlns='jabber:client' type='get' id='ping1' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>",
  );
  assert.match(first, /id='ping1'/);
  const again = await alice.post(`sid='${alice.sid}' rid='${rid}'`);
  assert.equal(again, first);
});

Deno.test("BoshSessions ends the session for a rid beyond the window or already forgotten", async () => {
  await using world = await testServer(httpServerConfig());
  await addUser(world, "alice");
  const alice = await boshLogin(world, "alice");
  const ahead = await alice.post(`sid='${alice.sid}' rid='${alice.rid + 5}'`);
  assert.match(ahead, /type='terminate' condition='item-not-found'/);
  const after = await alice.post(`sid='${alice.sid}' rid='${alice.rid + 1}'`);
  assert.match(after, /condition='item-not-found'/);

  const bob = new BoshClient(world);
  await bob.create();
  // Each request held answers the one before it (hold='1'): the creation's rid leaves the window.
  for (let i = 0; i < 3; i++) void bob.request();
  await world.settle();
  const old = await bob.post(`sid='${bob.sid}' rid='${bob.rid - 3}'`);
  assert.match(old, /condition='item-not-found'/, "a rid older than the window");
});

Deno.test("BoshSessions handles requests in rid order when they arrive out of order (§14.1)", async () => {
  await using world = await testServer(httpServerConfig());
  await addUser(world, "alice");
  const alice = await boshLogin(world, "alice");
  const ping = (id: string) =>
    `<iq xmlns='jabber:client' type='get' id='${id}' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`;
  const second = alice.post(`sid='${alice.sid}' rid='${alice.rid + 2}'`, ping("second"));
  const first = alice.post(`sid='${alice.sid}' rid='${alice.rid + 1}'`, ping("first"));
  alice.rid += 2;
  await first;
  const both = await alice.next(/id='second'/);
  assert.ok(both.indexOf("id='first'") >= 0, both);
  assert.ok(both.indexOf("id='first'") < both.indexOf("id='second'"), both);
  await second;
});

Deno.test("BoshSessions ends a session idle past inactivity, and its c2s stream with it (§11)", async () => {
  await using world = await testServer(
    httpServerConfig().replace(
      `<bosh consider-secure="true"/>`,
      `<bosh inactivity="10s" consider-secure="true"/>`,
    ),
  );
  await addUser(world, "alice");
  const alice = await boshLogin(world, "alice");
  const sessions = () =>
    world.memory.http.fetch(`${httpUrl(world)}/admin/sessions`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    }).then((r) => r.json()).then((json) => json.sessions.length);
  // A request held (a client always keeps one waiting) is answered empty after wait='30';
  // inactivity counts from then.
  void alice.request();
  await world.settle();
  world.memory.clock.advance(31_000);
  await world.settle();
  assert.equal(await sessions(), 1, "alive while within inactivity");
  world.memory.clock.advance(11_000);
  await world.settle();
  assert.equal(await sessions(), 0);
  const late = await alice.post(`sid='${alice.sid}' rid='${++alice.rid}'`);
  assert.match(late, /type='terminate'/);
});

Deno.test("BoshSessions terminates on type='terminate' and refuses an unknown sid", async () => {
  await using world = await testServer(httpServerConfig());
  await addUser(world, "alice");
  const alice = await boshLogin(world, "alice");
  const end = await alice.post(
    `sid='${alice.sid}' rid='${++alice.rid}' type='terminate'`,
    "<presence xmlns='jabber:client' type='unavailable'/>",
  );
  assert.match(end, /type='terminate'/);
  const unknown = await alice.post(`sid='${alice.sid}' rid='${++alice.rid}'`);
  assert.match(unknown, /condition='item-not-found'/);
  const bad = await world.memory.http.fetch(`${httpUrl(world)}/http-bind`, {
    method: "POST",
    body: "<body xmlns='http://jabber.org/protocol/httpbind' rid='x'/>",
  });
  assert.equal(bad.status, 400);
  assert.match(await bad.text(), /condition='bad-request'/);
});

Deno.test("BoshSessions keeps a paused session for the pause, not longer (§12)", async () => {
  await using world = await testServer(
    httpServerConfig().replace(
      `<bosh consider-secure="true"/>`,
      `<bosh inactivity="10s" max-pause="30s" consider-secure="true"/>`,
    ),
  );
  await addUser(world, "alice");
  const alice = await boshLogin(world, "alice");
  const sessions = () =>
    world.memory.http.fetch(`${httpUrl(world)}/admin/sessions`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    }).then((r) => r.json()).then((json) => json.sessions.length);
  const paused = await alice.post(`sid='${alice.sid}' rid='${++alice.rid}' pause='20'`);
  assert.match(paused, /^<body /, "a pause is answered at once");
  world.memory.clock.advance(15_000);
  await world.settle();
  assert.equal(await sessions(), 1, "alive during the pause, past inactivity");
  world.memory.clock.advance(6_000);
  await world.settle();
  assert.equal(await sessions(), 0);
});
