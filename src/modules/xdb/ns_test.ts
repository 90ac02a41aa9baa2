import assert from "node:assert/strict";
import type { ValidationContext } from "../../server/module_api.ts";
import { type Element, xml } from "../../xml/element.ts";
import { testServer } from "../../server/_testing.ts";
import { nsModule } from "./ns.ts";

const HOST = "example.org";

function problemsOf(element: Element): string[] {
  const problems: string[] = [];
  const context: ValidationContext = {
    problem: (_at, message) => problems.push(message),
    warning: () => {},
  };
  nsModule.validate!(element, context);
  return problems;
}

Deno.test("<ns> skips other namespaces so another xdb section takes them", async () => {
  const world = await testServer(`<jabberd>
    <xdb id="xdb1">
      <host>${HOST}</host>
      <ns>jabber:iq:roster</ns>
      <ns>jabber:iq:private</ns>
      <kv>roster.sqlite3</kv>
    </xdb>
    <xdb id="xdb2"><host>${HOST}</host><ns>vcard-temp</ns><kv>vcard.sqlite3</kv></xdb>
  </jabberd>`);
  try {
    const owner = `alice@${HOST}`;
    await world.xdb.set(owner, "jabber:iq:roster", xml("query", { xmlns: "jabber:iq:roster" }));
    await world.xdb.set(owner, "jabber:iq:private", xml("query", { xmlns: "jabber:iq:private" }));
    await world.xdb.set(owner, "vcard-temp", xml("vCard", { xmlns: "vcard-temp" }));
    // Nobody lists this one: the router bounces the request as an error reply.
    await assert.rejects(world.xdb.get(owner, "jabber:iq:last"), /XDB error/);
    assert.equal((await world.xdb.get(owner, "vcard-temp"))?.name, "vCard");
    await world.stop();
    const keysIn = async (path: string) => {
      const kv = await world.memory.kv.open(path);
      const namespaces: unknown[] = [];
      for await (const entry of kv.list({ prefix: ["xdb"] })) namespaces.push(entry.key[3]);
      return namespaces;
    };
    assert.deepEqual(await keysIn("/etc/jabberd/roster.sqlite3"), [
      "jabber:iq:private",
      "jabber:iq:roster",
    ]);
    assert.deepEqual(await keysIn("/etc/jabberd/vcard.sqlite3"), ["vcard-temp"]);
  } finally {
    await world.stop();
  }
});

Deno.test("<ns> validation wants one namespace as text and no attributes", () => {
  assert.deepEqual(problemsOf(xml("ns", {}, " jabber:iq:roster ")), []);
  assert.match(problemsOf(xml("ns"))[0], /<ns> is empty/);
  assert.match(problemsOf(xml("ns", {}, "a b"))[0], /one namespace per <ns> element/);
  assert.match(problemsOf(xml("ns", {}, xml("x")))[0], /takes only text/);
  assert.match(problemsOf(xml("ns", { type: "x" }, "a"))[0], /no attribute "type"/);
});
