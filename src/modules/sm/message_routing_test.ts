import assert from "node:assert/strict";
import { NS_OFFLINE, NS_STANZAS_ERRORS } from "../../util/ns.ts";
import type { Element } from "../../xml/element.ts";
import { REMOTE, smWorld } from "./_testing.ts";
import type { Session } from "./types.ts";

const ROMEO = `romeo@${REMOTE}/orchard`;

/**
 * Juliet's account with sessions `[resource, available, priority]`; the sender is Romeo on a
 * remote server, so errors come back to `world.remote`.
 */
async function juliet(...resources: [string, boolean, number][]) {
  const world = await smWorld();
  await world.addUser("juliet@localhost");
  const sessions: Record<string, Session> = {};
  for (const [resource, available, priority] of resources) {
    const session = world.bind(`juliet@localhost/${resource}`);
    session.available = available;
    session.priority = priority;
    sessions[resource] = session;
  }
  /** Romeo sends a message of `type` to `to`. */
  const message = (to: string, type?: string) =>
    world.send(
      `<message from="${ROMEO}" to="${to}"${type ? ` type="${type}"` : ""} id="m1">` +
        `<body>Wherefore art thou?</body></message>`,
    );
  const received = (resource: string) => world.take(sessions[resource]);
  const stored = async () =>
    (await world.sm.api.xdb.get("juliet@localhost", NS_OFFLINE))?.getChildren("message") ?? [];
  return { world, message, received, stored, sessions };
}

function assertError(stanza: Element | undefined, condition: string) {
  assert.ok(stanza, "an error came back");
  assert.equal(stanza.attrs.type, "error");
  assert.equal(stanza.attrs.to, ROMEO);
  assert.ok(stanza.getChild("error")?.getChild(condition, NS_STANZAS_ERRORS), stanza.toString());
}

Deno.test("RFC 6121 §8.5.1 a message to an unknown user is answered service-unavailable", async () => {
  const { world, message } = await juliet();
  await message("nobody@localhost", "chat");
  assertError(world.remote[0], "service-unavailable");
  await world.stop();
});

Deno.test("RFC 6121 §8.5.1 presence to an unknown user is silently dropped", async () => {
  const { world } = await juliet();
  await world.send(`<presence from="${ROMEO}" to="nobody@localhost" type="subscribe"/>`);
  assert.deepEqual(world.remote, []);
  await world.stop();
});

Deno.test("RFC 6121 §8.5.1 an iq to an unknown user is answered service-unavailable", async () => {
  const { world } = await juliet();
  await world.send(
    `<iq from="${ROMEO}" to="nobody@localhost" type="get" id="v1"><vCard xmlns="vcard-temp"/></iq>`,
  );
  assertError(world.remote[0], "service-unavailable");
  await world.stop();
});

Deno.test("RFC 6121 §8.5.2.1.1 chat to the bare JID goes to the one non-negative resource", async () => {
  const { world, message, received } = await juliet(["balcony", true, 0], ["hidden", true, -1]);
  await message("juliet@localhost", "chat");
  assert.equal(received("balcony").length, 1);
  assert.equal(received("hidden").length, 0);
  await world.stop();
});

Deno.test("RFC 6121 §8.5.2.1.1 normal to the bare JID goes to every resource of the highest priority", async () => {
  const { world, message, received } = await juliet(
    ["balcony", true, 5],
    ["chamber", true, 5],
    ["garden", true, 1],
    ["bound", false, 0],
  );
  await message("juliet@localhost");
  assert.equal(received("balcony").length, 1);
  assert.equal(received("chamber").length, 1);
  assert.equal(received("garden").length, 0);
  assert.equal(received("bound").length, 0);
  await world.stop();
});

Deno.test("RFC 6121 §8.5.2.1.1 chat to the bare JID with only negative resources is stored offline", async () => {
  const { world, message, received, stored } = await juliet(["hidden", true, -1]);
  await message("juliet@localhost", "chat");
  assert.equal(received("hidden").length, 0);
  assert.equal((await stored()).length, 1);
  await world.stop();
});

Deno.test("RFC 6121 §8.5.2.1.2 groupchat to the bare JID is answered service-unavailable", async () => {
  const { world, message, received } = await juliet(["balcony", true, 0]);
  await message("juliet@localhost", "groupchat");
  assert.equal(received("balcony").length, 0);
  assertError(world.remote[0], "service-unavailable");
  await world.stop();
});

Deno.test("RFC 6121 §8.5.2.1.3 headline to the bare JID goes to every non-negative resource", async () => {
  const { world, message, received } = await juliet(
    ["balcony", true, 5],
    ["garden", true, 0],
    ["hidden", true, -1],
  );
  await message("juliet@localhost", "headline");
  assert.equal(received("balcony").length, 1);
  assert.equal(received("garden").length, 1);
  assert.equal(received("hidden").length, 0);
  await world.stop();
});

Deno.test("RFC 6121 §8.5.2.1.4 an error message to the bare JID is silently ignored", async () => {
  const { world, message, received } = await juliet(["balcony", true, 0]);
  await message("juliet@localhost", "error");
  assert.equal(received("balcony").length, 0);
  assert.deepEqual(world.remote, []);
  await world.stop();
});

Deno.test("RFC 6121 §8.5.2.2.1 normal and chat with no available resource are stored offline", async () => {
  const { world, message, stored } = await juliet(["bound", false, 0]);
  await message("juliet@localhost");
  await message("juliet@localhost", "chat");
  assert.deepEqual((await stored()).map((m) => m.attrs.type), [undefined, "chat"]);
  assert.deepEqual(world.remote, []);
  await world.stop();
});

Deno.test("RFC 6121 §8.5.2.2.2 groupchat with no available resource is answered service-unavailable", async () => {
  const { world, message, stored } = await juliet();
  await message("juliet@localhost", "groupchat");
  assertError(world.remote[0], "service-unavailable");
  assert.equal((await stored()).length, 0);
  await world.stop();
});

Deno.test("RFC 6121 §8.5.2.2.3 headline with no available resource is silently ignored", async () => {
  const { world, message, stored } = await juliet();
  await message("juliet@localhost", "headline");
  assert.deepEqual(world.remote, []);
  assert.equal((await stored()).length, 0);
  await world.stop();
});

Deno.test("RFC 6121 §8.5.2.2.4 an error message with no available resource is silently ignored", async () => {
  const { world, message, stored } = await juliet();
  await message("juliet@localhost", "error");
  assert.deepEqual(world.remote, []);
  assert.equal((await stored()).length, 0);
  await world.stop();
});

Deno.test("RFC 6121 §8.5.3.1 a message to an existing full JID goes to that resource, available or not", async () => {
  const { world, message, received } = await juliet(["balcony", true, 5], ["bound", false, -3]);
  await message("juliet@localhost/bound", "chat");
  assert.equal(received("bound").length, 1);
  assert.equal(received("balcony").length, 0);
  await world.stop();
});

Deno.test("RFC 6121 §8.5.3.1 presence and iq to an existing full JID go to that resource", async () => {
  const { world, received } = await juliet(["balcony", true, 0]);
  await world.send(`<presence from="${ROMEO}" to="juliet@localhost/balcony"/>`);
  await world.send(
    `<iq from="${ROMEO}" to="juliet@localhost/balcony" type="get" id="p"><ping xmlns="urn:xmpp:ping"/></iq>`,
  );
  assert.deepEqual(received("balcony").map((s) => s.name), ["presence", "iq"]);
  await world.stop();
});

Deno.test("RFC 6121 §8.5.3.2.1 normal to a missing full JID is handled as to the bare JID", async () => {
  const { world, message, received, stored } = await juliet(["balcony", true, 0]);
  await message("juliet@localhost/gone");
  assert.equal(received("balcony").length, 1);
  assert.equal((await stored()).length, 0);
  await world.stop();
});

Deno.test("RFC 6121 §8.5.3.2.1 chat to a missing full JID is handled as to the bare JID (offline)", async () => {
  const { world, message, stored } = await juliet();
  await message("juliet@localhost/gone", "chat");
  assert.equal((await stored()).length, 1);
  await world.stop();
});

Deno.test("RFC 6121 §8.5.3.2.1 groupchat to a missing full JID is answered service-unavailable", async () => {
  const { world, message, received } = await juliet(["balcony", true, 0]);
  await message("juliet@localhost/gone", "groupchat");
  assert.equal(received("balcony").length, 0);
  assertError(world.remote[0], "service-unavailable");
  await world.stop();
});

Deno.test("RFC 6121 §8.5.3.2.1 headline and error to a missing full JID are silently ignored", async () => {
  const { world, message, received, stored } = await juliet(["balcony", true, 0]);
  await message("juliet@localhost/gone", "headline");
  await message("juliet@localhost/gone", "error");
  assert.equal(received("balcony").length, 0);
  assert.deepEqual(world.remote, []);
  assert.equal((await stored()).length, 0);
  await world.stop();
});

Deno.test("RFC 6121 §8.5.3.2.1 an iq to a missing full JID is answered service-unavailable", async () => {
  const { world } = await juliet(["balcony", true, 0]);
  await world.send(
    `<iq from="${ROMEO}" to="juliet@localhost/gone" type="get" id="p"><ping xmlns="urn:xmpp:ping"/></iq>`,
  );
  assertError(world.remote[0], "service-unavailable");
  await world.stop();
});

Deno.test("RFC 6121 §8.5.3.2.1 available presence to a missing full JID is silently ignored", async () => {
  const { world, received } = await juliet(["balcony", true, 0]);
  await world.send(`<presence from="${ROMEO}" to="juliet@localhost/gone"/>`);
  assert.equal(received("balcony").length, 0);
  assert.deepEqual(world.remote, []);
  await world.stop();
});

Deno.test("RFC 6120 §10.3.1 a message without to from a session goes to its own bare JID", async () => {
  const { world, received, sessions } = await juliet(["balcony", true, 1], ["chamber", true, 0]);
  await world.send(`<message><body>Note</body></message>`, sessions.balcony);
  // The highest-priority resource is the balcony itself.
  assert.equal(received("balcony").length, 1);
  assert.equal(received("chamber").length, 0);
  await world.stop();
});

Deno.test("a message from a session to another server goes into the tree unchanged", async () => {
  const { world, sessions } = await juliet(["balcony", true, 0]);
  await world.send(`<message to="${ROMEO}"><body>Hi</body></message>`, sessions.balcony);
  assert.equal(world.remote.length, 1);
  assert.equal(world.remote[0].attrs.from, "juliet@localhost/balcony");
  await world.stop();
});
