/**
 * docs/CONTRIBUTING.md's worked examples, run the way the doc says: the XEP-0215 feature of
 * src/modules/sm/features/external_services.ts in the session manager of a whole test server,
 * driven with the c2s ⇄ sm route packets (src/tree/ROUTING.md, "route"); the base-module example
 * `<echo/>` of docs/examples/echo.ts in a server of its own. The last tests keep the doc and the
 * files the same code.
 */
import assert from "node:assert/strict";
import { echo } from "../docs/examples/echo.ts";
import { testServer } from "../src/server/_testing.ts";
import { NS_DISCO_INFO, NS_EXTDISCO } from "../src/util/ns.ts";
import { parseDocument } from "../src/xml/document.ts";
import { type Element, xml } from "../src/xml/element.ts";

function config(settings: string): string {
  return `<jabberd>
    <service id="sessions">
      <host>localhost</host>
      <sm xmlns="jabberd:config:sm">${settings}</sm>
    </service>
    <xdb id="xdb"><host/><kv>:memory:</kv></xdb>
  </jabberd>`;
}

const SERVICES = `
  <external-service type="stun" host="stun.localhost" port="3478" transport="udp"/>
  <external-service type="turn" host="turn.localhost" port="3478" transport="udp" name="Relay"/>`;

/** A whole server with the example, and alice's session opened as c2s opens it. */
async function exampleWorld() {
  const world = await testServer(config(SERVICES));
  const toC2s = world.collect("c2s");
  const remote = world.collect("remote", ["remote.example"]);
  const alice = "alice@localhost/phone";
  world.router.deliver(xml("route", { type: "session", to: alice, from: "c2s/1" }));
  await world.settle();
  assert.equal(toC2s.shift()?.element.attrs.type, "session", "the session opened");
  /** What alice's client sends; resolves with what c2s got for her since. */
  const send = async (text: string): Promise<Element[]> => {
    const stanza = parseDocument(text, "test").root;
    stanza.attrs.from = alice;
    world.router.deliver(xml("route", { to: alice, from: "c2s/1" }, stanza));
    await world.settle();
    return toC2s.splice(0).map((packet) => packet.element.elements[0]);
  };
  return { world, send, remote, [Symbol.asyncDispose]: () => world.stop() };
}

Deno.test("externalServices lists every configured service, or those of the type asked for", async () => {
  await using example = await exampleWorld();
  const { send } = example;
  const [all] = await send(
    `<iq type="get" id="a" to="localhost"><services xmlns="${NS_EXTDISCO}"/></iq>`,
  );
  assert.equal(all.attrs.type, "result");
  const services = all.getChild("services", NS_EXTDISCO)!;
  assert.deepEqual(
    services.getChildren("service", NS_EXTDISCO).map((s) => s.attrs),
    [
      { type: "stun", host: "stun.localhost", port: "3478", transport: "udp" },
      { type: "turn", host: "turn.localhost", port: "3478", transport: "udp", name: "Relay" },
    ],
  );
  const [turn] = await send(
    `<iq type="get" id="t" to="localhost"><services xmlns="${NS_EXTDISCO}" type="turn"/></iq>`,
  );
  const selected = turn.getChild("services", NS_EXTDISCO)!;
  assert.equal(selected.attrs.type, "turn");
  assert.deepEqual(selected.getChildren("service", NS_EXTDISCO).map((s) => s.attrs.host), [
    "turn.localhost",
  ]);
});

Deno.test("externalServices is advertised in the host's disco#info, unless <disable>d", async () => {
  const advertised = async (settings: string) => {
    const world = await testServer(config(settings));
    try {
      const toC2s = world.collect("c2s");
      world.router.deliver(xml("route", { type: "session", to: "a@localhost/r", from: "c2s/1" }));
      world.router.deliver(
        xml(
          "route",
          { to: "a@localhost/r", from: "c2s/1" },
          xml(
            "iq",
            { type: "get", id: "d", to: "localhost", from: "a@localhost/r" },
            xml("query", { xmlns: NS_DISCO_INFO }),
          ),
        ),
      );
      await world.settle();
      const reply = toC2s.map((p) => p.element.elements[0]).find((e) => e?.attrs.id === "d")!;
      const features = reply.getChild("query", NS_DISCO_INFO)!.getChildren(
        "feature",
        NS_DISCO_INFO,
      );
      return features.some((f) => f.attrs.var === NS_EXTDISCO);
    } finally {
      await world.stop();
    }
  };
  assert.equal(await advertised(SERVICES), true);
  assert.equal(await advertised(`${SERVICES}<disable>external-services</disable>`), false);
});

Deno.test("externalServices answers forbidden to a user of another server", async () => {
  await using example = await exampleWorld();
  const { world, remote } = example;
  world.router.deliver(
    parseDocument(
      `<iq type="get" id="r" from="eve@remote.example/x" to="localhost"><services xmlns="${NS_EXTDISCO}"/></iq>`,
      "test",
    ).root,
  );
  await world.settle();
  const reply = remote.at(-1)!.element;
  assert.equal(reply.attrs.type, "error");
  const error = reply.getChild("error")!;
  assert.ok(error.getChild("forbidden", "urn:ietf:params:xml:ns:xmpp-stanzas"));
  const echoed = reply.getChild("services", NS_EXTDISCO);
  assert.equal(echoed?.elements.length ?? 0, 0, "the error gives no service away");
});

Deno.test("externalServices.validate() makes the check refuse a wrong <external-service>", async () => {
  const wrong = `<external-service type="stun" port="99999" transport="sctp" via="x"/>`;
  await assert.rejects(testServer(config(wrong)), (error: Error) => {
    assert.match(error.message, /<external-service> needs host/);
    assert.match(error.message, /"port" .* write a port number from 1 to 65535/);
    assert.match(error.message, /"transport" .* write udp or tcp/);
    assert.match(error.message, /no attribute "via"; its settings are type, host, port/);
    return true;
  });
});

const ECHO = `<jabberd>
  <service id="echo"><host>echo.localhost</host><echo/></service>
</jabberd>`;

Deno.test("echo answers a message with its body, from the address it was sent to", async () => {
  await using world = await testServer(ECHO, { modules: [echo] });
  const remote = world.collect("remote", ["remote.example"]);
  world.router.deliver(
    parseDocument(
      `<message type="chat" id="m1" from="eve@remote.example/x" to="bot@echo.localhost">` +
        `<body>hello</body></message>`,
      "test",
    ).root,
  );
  world.router.deliver(
    xml("iq", { type: "get", id: "i1", from: "eve@remote.example/x", to: "echo.localhost" }),
  );
  await world.settle();
  const [reply, bounce] = remote.map((packet) => packet.element);
  assert.deepEqual(reply.attrs, {
    to: "eve@remote.example/x",
    from: "bot@echo.localhost",
    type: "chat",
  });
  assert.equal(reply.getChildText("body"), "hello");
  assert.equal(bounce.attrs.type, "error", "what echo passes on bounces as the tree's rules say");
});

Deno.test("echo.validate() makes the check refuse content in <echo/>", async () => {
  await assert.rejects(
    testServer(ECHO.replace("<echo/>", "<echo>loud</echo>"), { modules: [echo] }),
    /<echo\/> takes no content/,
  );
});

for (const file of ["src/modules/sm/features/external_services.ts", "docs/examples/echo.ts"]) {
  Deno.test(`docs/CONTRIBUTING.md shows ${file} as the file is`, async () => {
    const doc = await Deno.readTextFile(new URL("../docs/CONTRIBUTING.md", import.meta.url));
    const code = await Deno.readTextFile(new URL(`../${file}`, import.meta.url));
    const marker = `<!-- file: ${file} -->`;
    const start = doc.indexOf(marker);
    assert.ok(start >= 0, `CONTRIBUTING.md marks the code block of ${file} with ${marker}`);
    const shown = doc.slice(start + marker.length).match(/^\s*```ts\n([\s\S]*?)```/);
    assert.ok(shown, `a ts code block follows ${marker}`);
    assert.equal(shown[1], code);
  });
}
