import assert from "node:assert/strict";
import type { ValidationContext } from "../../server/module_api.ts";
import { NS_DELAY, NS_STANZAS_ERRORS } from "../../util/ns.ts";
import type { Element } from "../../xml/element.ts";
import { DEFAULT_OFFLINE_QUOTA, readSmConfig } from "./config.ts";
import { allFeatures, smModule } from "./mod.ts";
import { parse, REMOTE, smTestWorld } from "./testing.ts";

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
  assert.deepEqual(problems, [
    `<admin> must hold a user's JID such as "admin@example.org"`,
    `<offline quota="lots"> must be a whole number of messages (0 turns storage off)`,
    "<motd> is empty; write the message or remove it",
    `<disable> names an unknown feature "telepathy"; the features are: ${
      allFeatures().map((f) => f.name).join(", ")
    }`,
    "<sm> has no setting <colour>; use <admin>, <offline>, <motd>, <disable>, <item>, " +
    "<version>, <ping>",
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
  const world = await smTestWorld({ config: `<disable>offline</disable>` });
  await world.addUser("juliet@localhost");
  await world.arrive(
    `<message from="romeo@${REMOTE}/o" to="juliet@localhost" type="chat"><body>x</body></message>`,
  );
  assert.ok(world.remote[0].getChild("error")?.getChild("service-unavailable", NS_STANZAS_ERRORS));
  await world.stop();
});

Deno.test("with every feature: offline messages reach a client after its initial presence", async () => {
  const world = await smTestWorld({ withFeatures: true });
  await world.addUser("juliet@localhost");
  await world.arrive(
    `<message from="romeo@${REMOTE}/o" to="juliet@localhost" type="chat"><body>Hi</body></message>`,
  );
  const juliet = await world.open("juliet@localhost/balcony");
  await world.send(juliet.connection, juliet.jid!, `<presence/>`);
  const messages = world.take(juliet.connection).filter((s) => s.name === "message");
  assert.equal(messages.length, 1);
  assert.equal(messages[0].getChildText("body"), "Hi");
  assert.ok(messages[0].getChild("delay", NS_DELAY));
  await world.stop();
});
