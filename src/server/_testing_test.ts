import assert from "node:assert/strict";
import { Received } from "../adapters/net_conformance.ts";
import { xml } from "../xml/element.ts";
import { testServer } from "./_testing.ts";

const XDB_ONLY = `<jabberd><xdb id="xdb"><host/><kv>data/xdb.kv</kv></xdb></jabberd>`;

Deno.test("testServer() refuses an invalid config with every problem and its place", async () => {
  await assert.rejects(
    testServer(`<jabberd>\n  <servce id="x"/>\n  <xdb><host/></xdb>\n</jabberd>`),
    (error: Error) => {
      assert.match(error.message, /The test config is invalid/);
      assert.match(error.message, /jabberd\.xml:2:3: .*servce/);
      assert.match(error.message, /jabberd\.xml:3:3: .*has no id/);
      return true;
    },
  );
});

Deno.test("testServer() lists the c2s listeners by name and connect() reaches one on the memory net", async () => {
  await using world = await testServer(`<jabberd>
    <service id="c2s">
      <c2s xmlns="jabberd:config:c2s">
        <domain>localhost</domain>
        <listen port="0" address="127.0.0.1"/>
        <listen port="0" address="127.0.0.1" tls="direct"/>
        <certificate host="localhost" cert="tls.pem" key="tls.key"/>
      </c2s>
    </service>
  </jabberd>`);
  assert.deepEqual(world.addresses().map((a) => [a.section, a.name, a.hostname]), [
    ["c2s", "c2s", "127.0.0.1"],
    ["c2s", "c2s-tls", "127.0.0.1"],
  ]);
  assert.notEqual(world.address("c2s").port, world.address("c2s-tls").port);
  assert.throws(() => world.address("s2s"), /No listener named s2s was published/);
  const conn = await world.connect("c2s");
  const received = new Received(conn);
  conn.write(
    "<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' " +
      "to='localhost' version='1.0'>",
  );
  assert.match(await received.wait((text) => text.includes("<starttls")), /<stream:features>/);
  conn.close();
});

Deno.test("TestServer.collect() records packets for its hosts and id, across a restart", async () => {
  await using world = await testServer(XDB_ONLY);
  const inbox = world.collect("inbox", ["example.com"]);
  world.router.deliver(xml("message", { to: "juliet@example.com", from: "xdb" }));
  world.router.deliver(xml("message", { to: "inbox", from: "xdb" }));
  await world.restart();
  world.router.deliver(xml("message", { to: "romeo@example.com", from: "xdb" }));
  await world.settle();
  assert.deepEqual(inbox.map((packet) => packet.element.attrs.to), [
    "juliet@example.com",
    "inbox",
    "romeo@example.com",
  ]);
});

Deno.test("TestServer.restart() starts again on the same storage and stop() twice is harmless", async () => {
  const world = await testServer(XDB_ONLY);
  await world.xdb.set("alice@example.com", "test:n", xml("n", { xmlns: "test:n" }, "kept"));
  await world.restart();
  assert.equal((await world.xdb.get("alice@example.com", "test:n"))?.text(), "kept");
  await world.stop();
  await world.stop();
  assert.throws(() => world.server, /not running/);
});

Deno.test("testServer() collects the log lines no log section takes", async () => {
  await using world = await testServer(XDB_ONLY);
  world.router.deliver(xml("log", { type: "warn", from: "example.com" }, "disk slow"));
  assert.deepEqual(world.logLines(), ["[warn] (example.com) disk slow"]);
});
