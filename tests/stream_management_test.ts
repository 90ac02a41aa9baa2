/**
 * XEP-0198 Stream Management through the whole server, as raw transcripts: acks, resumption
 * after a dropped connection with stanzas in flight both ways, a client killed mid-stream that
 * gets every message exactly once (also with c2s and the session manager on two nodes), and a
 * session not resumed in time handing its unacknowledged stanzas back (ROUTING.md R39).
 */
import assert from "node:assert/strict";
import { denoAdapters } from "../src/adapters/deno/mod.ts";
import { testC2sSection, type TestServer, testServer } from "../src/server/_testing.ts";
import {
  addUser,
  c2sServerConfig,
  login,
  type RawClient,
  rawClient,
  scramLogin,
} from "../src/modules/c2s/_testing.ts";

const SM = "urn:xmpp:sm:3";

function serverWorld(c2s = "") {
  return testServer(c2sServerConfig(c2s));
}

/** Logs in, binds `resource` and enables stream management with resumption; the resume id. */
async function smLogin(world: TestServer, user: string, resource: string) {
  const client = await login(world, user, resource);
  client.send(`<enable xmlns='${SM}' resume='true'/>`);
  const enabled = await client.next(/<enabled [^>]*\/>/);
  const id = /id='([^']+)'/.exec(enabled)?.[1];
  assert.ok(id, `no resume id in ${enabled}`);
  return { client, id };
}

/** A new stream that authenticated as `user` and stops before binding. */
async function authenticated(world: TestServer, user: string): Promise<RawClient> {
  const client = await rawClient(world);
  await client.starttls();
  client.open();
  await client.next(/<\/stream:features>/);
  assert.match(await scramLogin(client, "SCRAM-SHA-256", user, "secret"), /<success/);
  client.open();
  assert.match(await client.next(/<\/stream:features>/), new RegExp(`<sm xmlns='${SM}'/>`));
  return client;
}

function chat(to: string, body: string): string {
  return `<message to='${to}' type='chat' id='${body}'><body>${body}</body></message>`;
}

/** The bodies of the complete messages in `text`, in order. */
function bodies(text: string): string[] {
  return [...text.matchAll(/<message[^>]*>.*?<body>([^<]*)<\/body>.*?<\/message>/gs)].map((m) =>
    m[1]
  );
}

Deno.test("XEP-0198 <r/> is answered with the count of handled stanzas, and the server asks for acks", async () => {
  await using world = await serverWorld();
  await addUser(world, "alice");
  await addUser(world, "bob");
  const { client: alice } = await smLogin(world, "alice", "phone");
  const bob = await login(world, "bob");
  alice.send(chat("bob@localhost/r", "a1"));
  alice.send(`<r xmlns='${SM}'/>`);
  assert.match(await alice.next(/<a [^>]*\/>/), /<a xmlns='urn:xmpp:sm:3' h='1'\/>/);
  for (let i = 1; i <= 5; i++) bob.send(chat("alice@localhost/phone", `m${i}`));
  // After five unacknowledged stanzas the server asks; an ack beyond what was sent is an error.
  assert.match(await alice.next(/<r xmlns='urn:xmpp:sm:3'\/>/), /m5<\/body>/);
  alice.send(`<a xmlns='${SM}' h='5'/><a xmlns='${SM}' h='7'/>`);
  assert.match(await alice.next(/<\/stream:stream>/), /<undefined-condition /);
});

Deno.test("XEP-0198 resume after a dropped connection resends what was not acknowledged, in both directions", async () => {
  await using world = await serverWorld();
  await addUser(world, "alice");
  await addUser(world, "bob");
  const { client: alice, id } = await smLogin(world, "alice", "phone");
  const bob = await login(world, "bob");
  for (const body of ["m1", "m2", "m3"]) bob.send(chat("alice@localhost/phone", body));
  await alice.next(/m3<\/body>.*?<\/message>/s);
  alice.send(`<a xmlns='${SM}' h='1'/>`);
  // Two stanzas in flight from the client, then the connection drops.
  alice.send(chat("bob@localhost/r", "a1") + chat("bob@localhost/r", "a2"));
  alice.conn.close();
  await alice.closed();
  // One more for alice while she is away: held by c2s, not bounced.
  bob.send(chat("alice@localhost/phone", "m4"));
  assert.deepEqual(bodies(await bob.next(/a2<\/body>.*?<\/message>/s)), ["a1", "a2"]);

  // Alice processed m1 and m2 only: m3 and m4 come again; the server handled a1 and a2.
  const again = await authenticated(world, "alice");
  again.send(`<resume xmlns='${SM}' previd='${id}' h='2'/>`);
  const resumed = await again.next(/m4<\/body>.*?<\/message>/s);
  assert.match(resumed, new RegExp(`<resumed xmlns='${SM}' previd='${id}' h='2'/>`));
  assert.deepEqual(bodies(resumed), ["m3", "m4"]);

  // The session goes on under the same address, both ways.
  bob.send(chat("alice@localhost/phone", "m5"));
  assert.deepEqual(bodies(await again.next(/m5<\/body>.*?<\/message>/s)), ["m5"]);
  again.send(chat("bob@localhost/r", "a3"));
  const a3 = await bob.next(/a3<\/body>.*?<\/message>/s);
  assert.match(a3, /from='alice@localhost\/phone'/);
  assert.deepEqual(bodies(a3), ["a3"], "a1 and a2 were not delivered twice");
});

Deno.test("XEP-0198 a client killed mid-stream that resumes gets every message exactly once", async () => {
  await using world = await serverWorld();
  await addUser(world, "alice");
  await addUser(world, "bob");
  await killAndResume(world);
});

/** Bob sends 30 messages; alice is killed after 10 and resumes with what she really got. */
async function killAndResume(world: TestServer) {
  const { client: alice, id } = await smLogin(world, "alice", "phone");
  const bob = await login(world, "bob");
  for (let i = 1; i <= 20; i++) bob.send(chat("alice@localhost/phone", `m${i}`));
  await alice.next(/m5<\/body>.*?<\/message>/s);
  alice.send(`<a xmlns='${SM}' h='5'/>`);
  await alice.next(/m10<\/body>.*?<\/message>/s);
  alice.conn.close();
  await alice.closed();
  for (let i = 21; i <= 30; i++) bob.send(chat("alice@localhost/phone", `m${i}`));
  const first = bodies(alice.text);
  const again = await authenticated(world, "alice");
  again.send(`<resume xmlns='${SM}' previd='${id}' h='${first.length}'/>`);
  const second = bodies(await again.next(/m30<\/body>.*?<\/message>/s));
  const expected = Array.from({ length: 30 }, (_, i) => `m${i + 1}`);
  assert.deepEqual([...first, ...second], expected);
}

Deno.test("R39 a session not resumed in time hands its unacknowledged stanzas back: messages to offline storage, iq bounced", async () => {
  await using world = await serverWorld(`<stream-management resume-timeout="1m"/>`);
  await addUser(world, "alice");
  await addUser(world, "bob");
  const { client: alice, id } = await smLogin(world, "alice", "phone");
  const bob = await login(world, "bob");
  bob.send(chat("alice@localhost/phone", "m1"));
  await alice.next(/m1<\/body>.*?<\/message>/s);
  alice.conn.close();
  await alice.closed();
  bob.send(chat("alice@localhost/phone", "m2"));
  bob.send(
    `<iq type='get' to='alice@localhost/phone' id='v1'><query xmlns='jabber:iq:version'/></iq>`,
  );
  bob.send(`<iq type='get' to='localhost' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>`);
  await bob.next(/id='p1'/);
  await world.memory.clock.advanceAsync(60_000);
  const bounce = await bob.next(/<\/iq>/);
  assert.match(bounce, /id='v1'/);
  assert.match(bounce, /<service-unavailable /);

  const late = await authenticated(world, "alice");
  late.send(`<resume xmlns='${SM}' previd='${id}' h='1'/>`);
  assert.match(
    await late.next(/<\/failed>/),
    /<failed xmlns='urn:xmpp:sm:3'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'\/><\/failed>/,
  );
  const back = await login(world, "alice", "laptop");
  back.send("<presence/>");
  // m1 was never acknowledged, so it is stored too: a client must not assume it arrived.
  const stored = await back.next(/m2<\/body>.*?<\/message>/s);
  assert.deepEqual(bodies(stored), ["m1", "m2"]);
  assert.match(stored, /<delay xmlns='urn:xmpp:delay'/);
});

Deno.test("XEP-0198 resume with an unknown previd fails with item-not-found and the stream goes on", async () => {
  await using world = await serverWorld();
  await addUser(world, "alice");
  await addUser(world, "mallory");
  const { id } = await smLogin(world, "alice", "phone");
  const mallory = await authenticated(world, "mallory");
  for (const previd of ["no-such-session", id]) {
    mallory.send(`<resume xmlns='${SM}' previd='${previd}' h='0'/>`);
    assert.match(await mallory.next(/<\/failed>/), /<item-not-found /);
  }
  mallory.send(
    `<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'/></iq>`,
  );
  assert.match(await mallory.next(/<\/iq>/), /<jid>mallory@localhost\//);
});

Deno.test("XEP-0198 a killed client resumes exactly once with c2s and the session manager on two nodes", async () => {
  const dir = await Deno.makeTempDir({ prefix: "jabberd-sm-nodes-" });
  const start = (text: string) =>
    testServer(text, { file: `${dir}/jabberd.xml`, adapters: denoAdapters() });
  const nodeB = await start(`<jabberd>
  <service id="sessions"><host>localhost</host><sm xmlns="jabberd:config:sm"/></service>
  <xdb id="xdb"><host/><kv>${dir}/b.kv</kv></xdb>
  <service id="from-node-a">
    <host>c2s</host>
    <accept link="node"><ip>127.0.0.1</ip><port>0</port><secret>farm-secret</secret></accept>
  </service>
</jabberd>`);
  try {
    const port = nodeB.address("accept").port;
    const link = (id: string, kind: "service" | "xdb") =>
      `<${kind} id="${id}"><host>localhost</host>
      <connect link="node"><ip>127.0.0.1</ip><port>${port}</port><secret>farm-secret</secret>
        <retry min="100ms" max="1s"/></connect></${kind}>`;
    await using nodeA = await start(`<jabberd>
  ${testC2sSection("c2s")}
  ${link("sessions-on-b", "service")}
  ${link("xdb-on-b", "xdb")}
</jabberd>`);
    await addUser(nodeB, "alice");
    await addUser(nodeB, "bob");
    await killAndResume(nodeA);
  } finally {
    await nodeB.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});

Deno.test("XEP-0198 switched off with enabled=false is neither offered nor accepted", async () => {
  await using world = await serverWorld(`<stream-management enabled="false"/>`);
  await addUser(world, "alice");
  const client = await rawClient(world);
  await client.starttls();
  client.open();
  await client.next(/<\/stream:features>/);
  await scramLogin(client, "SCRAM-SHA-256", "alice", "secret");
  client.open();
  assert.doesNotMatch(await client.next(/<\/stream:features>/), /urn:xmpp:sm:3/);
  client.send(`<enable xmlns='${SM}'/>`);
  assert.match(await client.next(/<\/stream:stream>/), /<unsupported-stanza-type /);
});

Deno.test("XEP-0198 a detached session's held messages go to offline storage when the server stops", async () => {
  await using world = await serverWorld();
  await addUser(world, "alice");
  await addUser(world, "bob");
  const { client: alice } = await smLogin(world, "alice", "phone");
  const bob = await login(world, "bob");
  alice.conn.close();
  await alice.closed();
  bob.send(chat("alice@localhost/phone", "held"));
  bob.send(`<iq type='get' to='localhost' id='p1'><ping xmlns='urn:xmpp:ping'/></iq>`);
  await bob.next(/id='p1'/);
  await world.restart();
  const back = await login(world, "alice", "laptop");
  back.send("<presence/>");
  assert.deepEqual(bodies(await back.next(/held<\/body>.*?<\/message>/s)), ["held"]);
});

Deno.test("XEP-0198 more than max-unacked unacknowledged stanzas end the stream and are stored", async () => {
  await using world = await serverWorld(`<stream-management max-unacked="3"/>`);
  await addUser(world, "alice");
  await addUser(world, "bob");
  const { client: alice } = await smLogin(world, "alice", "phone");
  const bob = await login(world, "bob");
  for (const body of ["m1", "m2", "m3", "m4"]) bob.send(chat("alice@localhost/phone", body));
  assert.match(await alice.next(/<\/stream:stream>/), /<resource-constraint /);
  const back = await login(world, "alice", "laptop");
  back.send("<presence/>");
  assert.deepEqual(bodies(await back.next(/m4<\/body>.*?<\/message>/s)), ["m1", "m2", "m3", "m4"]);
});
