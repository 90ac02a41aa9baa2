import assert from "node:assert/strict";
import type { ValidationContext } from "../../server/module_api.ts";
import { NS_DELAY, NS_OFFLINE, NS_STANZAS_ERRORS } from "../../util/ns.ts";
import type { Element } from "../../xml/element.ts";
import { DEFAULT_OFFLINE_QUOTA, readSmConfig } from "./config.ts";
import { allFeatures, smModule } from "./mod.ts";
import { parse, REMOTE, smWorld } from "./_testing.ts";

function validate(children: string) {
  const problems: string[] = [];
  const warnings: string[] = [];
  const context: ValidationContext = {
    problem: (_at: Element, message: string) => problems.push(message),
    warning: (_at: Element, message: string) => warnings.push(message),
  };
  smModule.validate!(parse(`<sm xmlns="jabberd:config:sm">${children}</sm>`), context);
  return { problems, warnings };
}

Deno.test("<sm> validate() accepts the settings of the plan", () => {
  const names = allFeatures().map((feature) => feature.name);
  assert.ok(names.includes("offline"));
  const { problems, warnings } = validate(
    `<admin>admin@localhost</admin><offline quota="1000"/><motd>Welcome!</motd>` +
      `<disable>offline</disable>`,
  );
  assert.deepEqual(problems, []);
  assert.deepEqual(warnings, []);
});

Deno.test("<sm> validate() reports every problem with a sentence", () => {
  const { problems, warnings } = validate(
    `<admin>@nobody</admin><admin>boss@localhost/desk</admin><offline quota="lots"/>` +
      `<motd/><disable>telepathy</disable><colour>blue</colour>`,
  );
  const features = allFeatures().map((f) => f.name);
  assert.deepEqual(problems, [
    `Option "admin" of <sm> is invalid: "@nobody" is not a user's JID; write one such as ` +
    "admin@example.org",
    `Option "quota" of <offline> is invalid: "lots" is not a whole number; write digits such as 1000`,
    'Option "motd" of <sm> is empty; write a value or leave it out',
    `Option "disable" of <sm> is invalid: "telepathy" is not known here; write ` +
    `${features.slice(0, -1).join(", ")} or ${features.at(-1)}`,
    "<sm> has no setting <colour>; its settings are admin, offline, motd, disable, push, mam, " +
    "item, version, ping and external-service",
  ]);
  assert.deepEqual(warnings, [`<admin> "boss@localhost/desk" has a resource, which is ignored`]);
});

Deno.test("<sm> validate() hands a feature's settings to that feature's validator", () => {
  const { problems } = validate(
    `<ping interval="often"/><item name="no jid"/><version os="Linux" arch="x86"/>`,
  );
  assert.equal(problems.length, 3);
  assert.match(problems[0], /duration "often"/);
  assert.match(problems[1], /<item> needs jid/);
  assert.match(problems[2], /<version> takes only os/);
});

Deno.test("readSmConfig() reads admins, quota, motd and disabled features with defaults", () => {
  const empty = readSmConfig(parse(`<sm xmlns="jabberd:config:sm"/>`));
  assert.equal(empty.offlineQuota, DEFAULT_OFFLINE_QUOTA);
  assert.equal(empty.motd, undefined);
  assert.deepEqual([...empty.admins], []);
  const full = readSmConfig(
    parse(
      `<sm xmlns="jabberd:config:sm"><admin>Admin@LocalHost</admin><offline quota="5"/>` +
        `<motd> Hello </motd><disable>carbons</disable></sm>`,
    ),
  );
  assert.deepEqual([...full.admins], ["admin@localhost"]);
  assert.equal(full.offlineQuota, 5);
  assert.equal(full.motd, "Hello");
  assert.deepEqual([...full.disabled], ["carbons"]);
});

Deno.test("<disable>offline</disable> skips offline storage: the sender gets service-unavailable", async () => {
  const world = await smWorld({ config: `<disable>offline</disable>` });
  await world.addUser("juliet@localhost");
  await world.send(
    `<message from="romeo@${REMOTE}/o" to="juliet@localhost" type="chat"><body>x</body></message>`,
  );
  assert.ok(world.remote[0].getChild("error")?.getChild("service-unavailable", NS_STANZAS_ERRORS));
  await world.stop();
});

Deno.test("with every feature: offline messages reach a client after its initial presence", async () => {
  const world = await smWorld({ features: allFeatures() });
  await world.addUser("juliet@localhost");
  await world.send(
    `<message from="romeo@${REMOTE}/o" to="juliet@localhost" type="chat"><body>Hi</body></message>`,
  );
  const juliet = world.bind("juliet@localhost/balcony");
  await world.send(`<presence/>`, juliet);
  const messages = world.take(juliet).filter((s) => s.name === "message");
  assert.equal(messages.length, 1);
  assert.equal(messages[0].getChildText("body"), "Hi");
  assert.ok(messages[0].getChild("delay", NS_DELAY));
  await world.stop();
});

Deno.test("R34 a sender's messages to an offline user are stored, in order, before its next stanza is answered", async () => {
  const world = await smWorld({ features: allFeatures() });
  try {
    await world.addUser("juliet@localhost");
    // What the remote server had received each time an offline message was stored.
    const answeredBeforeStore: number[] = [];
    const xdb = world.api.xdb;
    const insert = xdb.insert.bind(xdb);
    xdb.insert = async (owner, ns, item, match) => {
      await insert(owner, ns, item, match);
      if (ns === NS_OFFLINE) answeredBeforeStore.push(world.remote.length);
    };
    const from = `romeo@${REMOTE}/o`;
    for (let n = 1; n <= 20; n++) {
      world.router.deliver(
        parse(
          `<message from="${from}" to="juliet@localhost" type="chat"><body>${n}</body></message>`,
        ),
      );
    }
    world.router.deliver(
      parse(
        `<iq from="${from}" to="juliet@localhost" type="get" id="p"><ping xmlns="urn:xmpp:ping"/></iq>`,
      ),
    );
    await world.settle();
    const stored = await xdb.get("juliet@localhost", NS_OFFLINE);
    const bodies = stored?.getChildren("message").map((m) => Number(m.getChildText("body")));
    assert.deepEqual(bodies, Array.from({ length: 20 }, (_, i) => i + 1));
    assert.deepEqual(answeredBeforeStore, new Array(20).fill(0), "nothing answered before a store");
    assert.deepEqual(world.remote.map((s) => [s.attrs.id, s.attrs.type]), [["p", "result"]]);
  } finally {
    await world.stop();
  }
});
