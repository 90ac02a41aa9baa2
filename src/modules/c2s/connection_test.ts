import assert from "node:assert/strict";
import { pemToDer } from "../../adapters/tls_select.ts";
import { xml } from "../../xml/element.ts";
import { addUser, type C2sWorld, c2sWorld, DOMAIN, rawClient, scramLogin } from "./_testing.ts";

async function boundClient(world: C2sWorld, resource: string) {
  const client = await rawClient(world);
  await client.starttls();
  client.open();
  const features = await client.next(/<\/stream:features>/);
  assert.match(features, /SCRAM-SHA-256-PLUS/);
  const cb = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new Uint8Array(pemToDer(world.certs.localhost.cert))),
  );
  const answer = await scramLogin(client, "SCRAM-SHA-256-PLUS", "alice", "secret", cb);
  assert.match(answer, /<success/);
  client.open();
  assert.match(await client.next(/<\/stream:features>/), /urn:ietf:params:xml:ns:xmpp-bind/);
  client.send(
    `<iq type='set' id='b1'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>${resource}</resource></bind></iq>`,
  );
  return { client, bind: await client.next(/<\/iq>/) };
}

Deno.test("c2s negotiates STARTTLS, SCRAM-SHA-256-PLUS and binds through a route to the sm", async () => {
  await using world = await c2sWorld();
  await addUser(world, "alice");
  const { client, bind } = await boundClient(world, "taken");
  assert.match(bind, /<jid>alice@localhost\/other<\/jid>/);
  const open = world.routes.find((r) => r.attrs.type === "session")!;
  assert.equal(open.attrs.to, "alice@localhost/taken");
  assert.match(open.attrs.from, /^c2s\/\d+$/);
  client.send("<message to='bob@localhost' id='m1'><body>hi</body></message>");
  const echoed = await client.next(/<\/message>/);
  assert.match(echoed, /from=.alice@localhost\/other./);
  client.send(
    "<iq type='set' id='s1'><session xmlns='urn:ietf:params:xml:ns:xmpp-session'/></iq>",
  );
  assert.match(await client.next(/<iq[^>]*id=.s1.[^>]*\/>/), /type=.result./);
  client.conn.close();
  await client.closed();
  for (let i = 0; i < 50 && !world.routes.some((r) => r.attrs.type === "error"); i++) {
    await new Promise((r) => setTimeout(r, 0));
  }
  const end = world.routes.find((r) => r.attrs.type === "error")!;
  assert.equal(end.attrs.from, open.attrs.from);
});

Deno.test("c2s answers a stream to an unknown host with host-unknown", async () => {
  await using world = await c2sWorld();
  const client = await rawClient(world);
  client.open("elsewhere.example");
  const text = await client.next(/<\/stream:stream>/);
  assert.match(text, /<host-unknown xmlns=.urn:ietf:params:xml:ns:xmpp-streams.\/>/);
});

Deno.test("c2s answers a stanza before authentication with not-authorized", async () => {
  await using world = await c2sWorld();
  const client = await rawClient(world);
  client.open();
  await client.next(/<\/stream:features>/);
  client.send("<message to='bob@localhost'><body>x</body></message>");
  assert.match(await client.next(/<\/stream:stream>/), /<not-authorized /);
});

Deno.test("c2s offers no SASL mechanism before TLS when encryption is required", async () => {
  await using world = await c2sWorld();
  const client = await rawClient(world);
  client.open();
  const features = await client.next(/<\/stream:features>/);
  assert.match(features, /<starttls xmlns=.urn:ietf:params:xml:ns:xmpp-tls.><required\/>/);
  assert.doesNotMatch(features, /mechanisms/);
});

Deno.test("c2s sends system-shutdown to open streams when the module unloads", async () => {
  const world = await c2sWorld();
  const client = await rawClient(world);
  client.open();
  await client.next(/<\/stream:features>/);
  await world.stop();
  assert.match(await client.next(/<\/stream:stream>/), /<system-shutdown /);
});

Deno.test("c2s closes with connection-timeout when authentication takes too long", async () => {
  await using world = await c2sWorld();
  const client = await rawClient(world);
  client.open();
  await client.next(/<\/stream:features>/);
  world.memory.clock.advance(31_000);
  assert.match(await client.next(/<\/stream:stream>/), /<connection-timeout /);
});

Deno.test("c2s refuses a wrong SCRAM password with not-authorized", async () => {
  await using world = await c2sWorld();
  await addUser(world, "alice");
  const client = await rawClient(world);
  await client.starttls();
  client.open();
  await client.next(/<\/stream:features>/);
  assert.match(await scramLogin(client, "SCRAM-SHA-1", "alice", "wrong"), /<not-authorized\/>/);
});

Deno.test("c2s registers an account in-band before login, then rate-limits the address", async () => {
  await using world = await c2sWorld(`<register from="127.0.0.0/8" rate="2" per="10m"/>`);
  const client = await rawClient(world);
  await client.starttls();
  client.open();
  assert.match(await client.next(/<\/stream:features>/), /iq-register/);
  const set = (id: string, user: string) =>
    client.send(
      `<iq type='set' id='${id}'><query xmlns='jabber:iq:register'><username>${user}</username><password>pw</password></query></iq>`,
    );
  set("r1", "carol");
  assert.match(await client.next(/<iq[^>]*id=.r1.[^>]*\/>|<\/iq>/), /type=.result./);
  set("r2", "carol");
  assert.match(await client.next(/<\/iq>/), /<conflict /);
  set("r3", "dave"); // a taken name did not count toward the window
  assert.match(await client.next(/<iq[^>]*id=.r3.[^>]*\/>|<\/iq>/), /type=.result./);
  set("r4", "erin");
  assert.match(await client.next(/<\/iq>/), /<resource-constraint /);
  assert.ok(await world.xdb.get(`carol@${DOMAIN}`, "jabberd:credentials"));
});

Deno.test("c2s.validate reports unknown settings and bad values", async () => {
  const { c2sModule } = await import("./mod.ts");
  const problems: string[] = [];
  c2sModule.validate!(
    xml(
      "c2s",
      { xmlns: "jabberd:config:c2s" },
      xml("listen", { port: "99999" }),
      xml("limits", { rate: "fast" }),
      xml("register", { from: "300.0.0.0/8" }),
      xml("bogus"),
    ),
    { problem: (_at, message) => problems.push(message), warning: () => {} },
  );
  assert.equal(problems.length, 5, problems.join("\n"));
});
