import assert from "node:assert/strict";
import { testServer } from "../../server/_testing.ts";
import { addUser, login } from "../c2s/_testing.ts";
import { httpServerConfig, httpUrl, WsClient, wsLogin } from "./_testing.ts";

Deno.test("acceptWebSocket() refuses an upgrade without the xmpp subprotocol (RFC 7395 §3.1)", async () => {
  await using world = await testServer(httpServerConfig());
  await assert.rejects(WsClient.connect(world, ["chat"]), /HTTP 400/);
  await assert.rejects(WsClient.connect(world, []), /HTTP 400/);
  const plain = await world.memory.http.fetch(`${httpUrl(world)}/xmpp-websocket`);
  assert.equal(plain.status, 426);
  await plain.body?.cancel();
});

Deno.test("acceptWebSocket() echoes xmpp and c2s answers <open/> with <open/> and features", async () => {
  await using world = await testServer(httpServerConfig());
  const client = await WsClient.connect(world, ["chat", "xmpp"]);
  assert.equal(client.socket.protocol, "xmpp");
  client.open();
  const opened = await client.next(/<\/stream:features>/);
  assert.equal(client.messages.length, 2, "one element per message");
  assert.match(
    client.messages[0],
    /^<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' id='[^']+' from='localhost' version='1.0'/,
  );
  assert.match(
    client.messages[1],
    /^<stream:features xmlns:stream='http:\/\/etherx.jabber.org\/streams'>/,
  );
  assert.doesNotMatch(opened, /starttls/, "no STARTTLS over WebSocket");
  assert.match(opened, /SCRAM-SHA-1/);
});

Deno.test("a WebSocket client logs in, binds and chats with a TCP client", async () => {
  await using world = await testServer(httpServerConfig());
  await addUser(world, "alice");
  await addUser(world, "bob");
  const alice = await wsLogin(world, "alice", "web");
  const bob = await login(world, "bob", "tcp");
  alice.send(
    "<message xmlns='jabber:client' to='bob@localhost/tcp' type='chat'><body>over ws</body></message>",
  );
  assert.match(await bob.next(/<\/message>/), /from='alice@localhost\/web'.*over ws/);
  bob.send("<message to='alice@localhost/web' type='chat'><body>over tcp</body></message>");
  const got = await alice.next(/<\/message>/);
  assert.match(got, /^<message xmlns='jabber:client'/, "stanzas carry jabber:client (§3.3.3)");
  assert.match(got, /from='bob@localhost\/tcp'.*over tcp/);
  alice.send("<iq xmlns='jabber:client' type='get' id='r1'><query xmlns='jabber:iq:roster'/></iq>");
  assert.match(
    await alice.next(/<\/iq>|<iq [^>]*\/>/),
    /type='result'.*id='r1'|id='r1'.*type='result'/,
  );
});

Deno.test("a WebSocket stream error is <stream:error> with its namespace, then <close/>", async () => {
  await using world = await testServer(httpServerConfig());
  const client = await WsClient.connect(world);
  client.open("elsewhere.example");
  await client.next(/<close /);
  const error = client.messages.find((m) => m.startsWith("<stream:error"))!;
  assert.match(error, /xmlns:stream='http:\/\/etherx.jabber.org\/streams'/);
  assert.match(error, /<host-unknown /);
  assert.equal(client.messages.at(-1), "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing'/>");
  await client.waitClosed();

  const bad = await WsClient.connect(world);
  bad.open();
  await bad.next(/<\/stream:features>/);
  bad.send("<message><body>unclosed</message>");
  assert.match(await bad.next(/<close /), /<not-well-formed /);
  await bad.waitClosed();
});

Deno.test("a WebSocket stanza before <open/> ends the stream with invalid-xml", async () => {
  await using world = await testServer(httpServerConfig());
  const client = await WsClient.connect(world);
  client.send("<message xmlns='jabber:client' to='bob@localhost'/>");
  assert.match(await client.next(/<close /), /<invalid-xml /);
});

Deno.test("a WebSocket client over the stanza size limit gets policy-violation", async () => {
  await using world = await testServer(
    httpServerConfig("", { c2s: `<limits stanza-size="1KiB"/>` }),
  );
  await addUser(world, "alice");
  const alice = await wsLogin(world, "alice");
  alice.send(
    `<message xmlns='jabber:client' to='bob@localhost'><body>${"x".repeat(2000)}</body></message>`,
  );
  assert.match(await alice.next(/<close /), /<policy-violation /);
});

Deno.test("<websocket see-other-uri> answers every <open/> with <close see-other-uri> (§3.6.1)", async () => {
  await using world = await testServer(
    httpServerConfig().replace(
      `<websocket consider-secure="true"/>`,
      `<websocket see-other-uri="wss://xmpp.example.org/ws"/>`,
    ),
  );
  const client = await WsClient.connect(world);
  client.open();
  assert.equal(
    await client.next(/<close /),
    "<close xmlns='urn:ietf:params:xml:ns:xmpp-framing' see-other-uri='wss://xmpp.example.org/ws'/>",
  );
  await client.waitClosed();
});

Deno.test("without consider-secure a plain ws:// stream offers no SASL where c2s requires TLS", async () => {
  await using world = await testServer(
    httpServerConfig().replace(`<websocket consider-secure="true"/>`, ""),
  );
  const client = await WsClient.connect(world);
  client.open();
  const features = await client.next(/<\/stream:features>|<stream:features[^>]*\/>/);
  assert.doesNotMatch(features, /<mechanism>/);
});
