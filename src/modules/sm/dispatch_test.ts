import assert from "node:assert/strict";
import { StanzaError } from "../../util/errors.ts";
import { NS_STANZAS_ERRORS } from "../../util/ns.ts";
import { xml } from "../../xml/element.ts";
import { REMOTE, smWorld } from "./_testing.ts";
import type { SmFeature, StanzaEvent } from "./types.ts";

const ROMEO = `romeo@${REMOTE}/orchard`;

/** A feature that records every event named in `names` (with the origin's JID) and passes. */
function recorder(names: string[], answer?: (name: string, event: StanzaEvent) => unknown) {
  const seen: { name: string; stanza: string; origin?: string }[] = [];
  const feature: SmFeature = {
    name: "recorder",
    register(sm) {
      for (const name of names) {
        sm.api.hook<StanzaEvent>(name, (event) => {
          seen.push({ name, stanza: event.stanza.name, origin: event.origin?.jid.toString() });
          return answer?.(name, event);
        }, 10);
      }
    },
  };
  return { seen, feature };
}

Deno.test("an iq get to the host for an unknown namespace is answered service-unavailable", async () => {
  const world = await smWorld();
  await world.send(
    `<iq from="${ROMEO}" to="localhost" type="get" id="q1"><query xmlns="urn:example:nothing"/></iq>`,
  );
  assert.equal(world.remote.length, 1);
  const reply = world.remote[0];
  assert.equal(reply.attrs.type, "error");
  assert.equal(reply.attrs.id, "q1");
  assert.equal(reply.attrs.from, "localhost");
  assert.ok(reply.getChild("error")?.getChild("service-unavailable", NS_STANZAS_ERRORS));
  await world.stop();
});

Deno.test("an unknown namespace from a session to its own account is answered service-unavailable", async () => {
  const world = await smWorld();
  const juliet = world.bind("juliet@localhost/balcony");
  await world.send(`<iq type="set" id="s1"><query xmlns="urn:example:nothing"/></iq>`, juliet);
  const [reply] = world.take(juliet);
  assert.equal(reply.attrs.type, "error");
  assert.equal(reply.attrs.to, "juliet@localhost/balcony");
  assert.ok(reply.getChild("error")?.getChild("service-unavailable", NS_STANZAS_ERRORS));
  await world.stop();
});

Deno.test("an iq get without a payload is answered bad-request", async () => {
  const world = await smWorld();
  await world.send(`<iq from="${ROMEO}" to="localhost" type="get" id="q1"/>`);
  assert.ok(world.remote[0].getChild("error")?.getChild("bad-request", NS_STANZAS_ERRORS));
  await world.stop();
});

Deno.test("errors and iq results are never answered with an error", async () => {
  const world = await smWorld();
  await world.addUser("juliet@localhost");
  await world.send(`<iq from="${ROMEO}" to="localhost" type="result" id="r1"/>`);
  await world.send(`<iq from="${ROMEO}" to="localhost" type="error" id="r2"/>`);
  await world.send(`<iq from="${ROMEO}" to="juliet@localhost/gone" type="result" id="r3"/>`);
  await world.send(`<iq from="${ROMEO}" to="nobody@localhost" type="error" id="r4"/>`);
  await world.send(`<message from="${ROMEO}" to="nobody@localhost" type="error"/>`);
  await world.send(`<message from="${ROMEO}" to="localhost" type="error"/>`);
  assert.deepEqual(world.remote.map((s) => s.toString()), []);
  await world.stop();
});

Deno.test("iq events are named by type, address form and payload, and carry the origin", async () => {
  const { seen, feature } = recorder(
    [
      "iq-get/host/urn:xmpp:ping:ping",
      "iq-get/self/jabber:iq:roster:query",
      "iq-get/bare/vcard-temp:vCard",
      "iq-result/host/ping-7",
    ],
    (name, event) => {
      if (name.startsWith("iq-result")) return true;
      world.sm.reply(event.stanza);
      return true;
    },
  );
  const world = await smWorld({ features: [feature] });
  await world.addUser("romeo@localhost");
  const juliet = world.bind("juliet@localhost/balcony");
  const send = (text: string) => world.send(text, juliet);
  await send(`<iq to="localhost" type="get" id="1"><ping xmlns="urn:xmpp:ping"/></iq>`);
  await send(`<iq type="get" id="2"><query xmlns="jabber:iq:roster"/></iq>`);
  await send(`<iq to="juliet@localhost" type="get" id="3"><query xmlns="jabber:iq:roster"/></iq>`);
  await send(`<iq to="romeo@localhost" type="get" id="4"><vCard xmlns="vcard-temp"/></iq>`);
  await send(`<iq to="localhost" type="result" id="ping-7"/>`);
  await world.send(
    `<iq from="${ROMEO}" to="localhost" type="get" id="5"><ping xmlns="urn:xmpp:ping"/></iq>`,
  );
  const origin = "juliet@localhost/balcony";
  assert.deepEqual(seen, [
    { name: "iq-get/host/urn:xmpp:ping:ping", stanza: "iq", origin },
    { name: "iq-get/self/jabber:iq:roster:query", stanza: "iq", origin },
    { name: "iq-get/self/jabber:iq:roster:query", stanza: "iq", origin },
    { name: "iq-get/bare/vcard-temp:vCard", stanza: "iq", origin },
    { name: "iq-result/host/ping-7", stanza: "iq", origin },
    { name: "iq-get/host/urn:xmpp:ping:ping", stanza: "iq", origin: undefined },
  ]);
  // The replies reached Juliet (to her full JID) and Romeo (into the tree).
  const replies = world.take(juliet);
  assert.deepEqual(replies.map((r) => [r.attrs.type, r.attrs.id]), [
    ["result", "1"],
    ["result", "2"],
    ["result", "3"],
    ["result", "4"],
  ]);
  assert.equal(replies[0].attrs.from, "localhost");
  assert.equal(replies[1].attrs.from, undefined);
  assert.deepEqual(world.remote.map((r) => [r.attrs.type, r.attrs.id]), [["result", "5"]]);
  await world.stop();
});

Deno.test("message and presence events carry the origin for local senders only", async () => {
  const { seen, feature } = recorder(["message/bare", "presence/bare", "presence/host"]);
  const world = await smWorld({ features: [feature] });
  await world.addUser("romeo@localhost");
  const juliet = world.bind("juliet@localhost/balcony");
  await world.send(`<message to="romeo@localhost"><body>x</body></message>`, juliet);
  await world.send(`<presence to="romeo@localhost" type="subscribe"/>`, juliet);
  await world.send(`<presence from="${ROMEO}" to="juliet@localhost" type="probe"/>`);
  await world.send(`<presence from="${ROMEO}" to="localhost"/>`);
  assert.deepEqual(seen, [
    { name: "message/bare", stanza: "message", origin: "juliet@localhost/balcony" },
    { name: "presence/bare", stanza: "presence", origin: "juliet@localhost/balcony" },
    { name: "presence/bare", stanza: "presence", origin: undefined },
    { name: "presence/host", stanza: "presence", origin: undefined },
  ]);
  await world.stop();
});

Deno.test("subscription presence to a full JID fires presence/bare (RFC 6121 §8.5.3.1)", async () => {
  const { seen, feature } = recorder(["presence/bare"], () => true);
  const world = await smWorld({ features: [feature] });
  const juliet = world.bind("juliet@localhost/balcony");
  await world.send(`<presence from="${ROMEO}" to="juliet@localhost/balcony" type="subscribe"/>`);
  assert.equal(seen.length, 1);
  assert.equal(world.take(juliet).length, 0);
  await world.stop();
});

Deno.test("pre- events see what a session sends; true stops routing, false lets it go on", async () => {
  const { seen, feature } = recorder(
    ["pre-message/full", "pre-presence/bare", "pre-iq/host"],
    (name) => name === "pre-message/full" ? true : Promise.resolve(false),
  );
  const world = await smWorld({ features: [feature] });
  const juliet = world.bind("juliet@localhost/balcony");
  const send = (text: string) => world.send(text, juliet);
  await send(`<message to="${ROMEO}"><body>held back</body></message>`);
  await send(`<presence/>`);
  await send(`<iq to="${REMOTE}" type="get" id="v"><query xmlns="jabber:iq:version"/></iq>`);
  assert.deepEqual(seen.map((s) => [s.name, s.origin]), [
    ["pre-message/full", "juliet@localhost/balcony"],
    ["pre-presence/bare", "juliet@localhost/balcony"],
    ["pre-iq/host", "juliet@localhost/balcony"],
  ]);
  // The message was taken by the hook; the iq went on to the remote server.
  assert.deepEqual(world.remote.map((s) => s.name), ["iq"]);
  await world.stop();
});

Deno.test("a session's stanzas keep their order when a hook answers the first one later", async () => {
  // RFC 6120 §10.1: the second message is handled synchronously, the first waits on a promise.
  const { feature } = recorder(
    ["pre-message/full"],
    (_name, event) => event.stanza.attrs.id === "m1" ? Promise.resolve(false) : false,
  );
  const world = await smWorld({ features: [feature] });
  const juliet = world.bind("juliet@localhost/balcony");
  const send = (id: string) => world.send(`<message to="${ROMEO}" id="${id}"/>`, juliet);
  await Promise.all([send("m1"), send("m2"), send("m3")]);
  assert.deepEqual(world.remote.map((s) => s.attrs.id), ["m1", "m2", "m3"]);
  await world.stop();
});

Deno.test("a hook that throws at once is answered internal-server-error", async () => {
  const feature: SmFeature = {
    name: "thrower",
    register(sm) {
      sm.api.hook("message/full", () => {
        throw new Error("A bug in a hook");
      });
    },
  };
  const world = await smWorld({ features: [feature] });
  world.bind("juliet@localhost/balcony");
  await world.send(`<message from="${ROMEO}" to="juliet@localhost/balcony" id="x"/>`);
  assert.equal(world.remote[0].attrs.id, "x");
  assert.ok(
    world.remote[0].getChild("error")?.getChild("internal-server-error", NS_STANZAS_ERRORS),
  );
  await world.stop();
});

Deno.test("a hook that throws a StanzaError is answered with that error", async () => {
  const feature: SmFeature = {
    name: "refuser",
    register(sm) {
      sm.api.hook(
        "iq-set/host/jabber:iq:register:query",
        () => Promise.reject(new StanzaError("not-allowed", "Registration is closed")),
      );
    },
  };
  const world = await smWorld({ features: [feature] });
  await world.send(
    `<iq from="${ROMEO}" to="localhost" type="set" id="r"><query xmlns="jabber:iq:register"/></iq>`,
  );
  assert.ok(world.remote[0].getChild("error")?.getChild("not-allowed", NS_STANZAS_ERRORS));
  await world.stop();
});

Deno.test("a pre- hook that rejects is answered by the dispatcher, and the stanza stays", async () => {
  const feature: SmFeature = {
    name: "outbound-refuser",
    register(sm) {
      sm.api.hook("pre-message/bare", () => Promise.reject(new StanzaError("policy-violation")));
      sm.api.hook("pre-message/full", () => {
        throw new Error("A bug in a pre- hook");
      });
    },
  };
  const world = await smWorld({ features: [feature] });
  const juliet = world.bind("juliet@localhost/balcony");
  await world.send(`<message to="romeo@${REMOTE}" id="a"><body>x</body></message>`, juliet);
  await world.send(`<message to="${ROMEO}" id="b"><body>x</body></message>`, juliet);
  const conditions = world.take(juliet).map((
    s,
  ) => [s.attrs.id, s.getChild("error")?.elements[0].local]);
  assert.deepEqual(conditions, [["a", "policy-violation"], ["b", "internal-server-error"]]);
  assert.deepEqual(world.remote, [], "nothing was routed");
  assert.ok(world.logLines().some((line) => line.includes("A bug in a pre- hook")));
  await world.stop();
});

Deno.test("a malformed to from a session is answered jid-malformed", async () => {
  const world = await smWorld();
  const juliet = world.bind("juliet@localhost/balcony");
  await world.send(xml("message", { to: "@bad" }, xml("body", {}, "x")), juliet);
  const [reply] = world.take(juliet);
  assert.ok(reply.getChild("error")?.getChild("jid-malformed", NS_STANZAS_ERRORS));
  await world.stop();
});

Deno.test("the sm's hosts are the tree's, and isAdmin() follows <admin>", async () => {
  const world = await smWorld({ config: `<admin>Boss@LocalHost</admin>` });
  assert.equal(world.sm.api.servesHost("LOCALHOST."), true);
  assert.equal(world.sm.api.servesHost(REMOTE), false);
  assert.equal(world.sm.isAdmin("boss@localhost/desk"), true);
  assert.equal(world.sm.isAdmin("juliet@localhost"), false);
  assert.equal(await world.sm.userExists("juliet@localhost"), false);
  await world.addUser("juliet@localhost");
  assert.equal(await world.sm.userExists("juliet@localhost"), true);
  await world.stop();
});

Deno.test("a message from a session to a local user fires message/bare with the event pre-message/bare saw, to, from and origin unchanged", async () => {
  const events: { name: string; event: StanzaEvent }[] = [];
  const feature: SmFeature = {
    name: "same-event",
    register(sm) {
      for (const name of ["pre-message/bare", "message/bare"]) {
        sm.api.hook<StanzaEvent>(name, (event) => {
          events.push({ name, event });
        }, 10);
      }
    },
  };
  const world = await smWorld({ features: [feature] });
  const juliet = world.bind("juliet@localhost/balcony");
  const romeo = world.bind("romeo@localhost/orchard");
  // Available (what the presence feature, not registered here, would set on <presence/>): a
  // message to the bare JID is delivered to it (RFC 6121 §8.5.2.1.1).
  (romeo as { available: boolean }).available = true;
  await world.send(
    xml("message", { to: "romeo@localhost", type: "chat" }, xml("body", {}, "hi")),
    juliet,
  );
  assert.deepEqual(events.map(({ name }) => name), ["pre-message/bare", "message/bare"]);
  const [outbound, inbound] = events.map(({ event }) => event);
  // One event object per message: the outbound one already has every field the inbound needs.
  assert.equal(inbound, outbound);
  assert.equal(inbound.to.toString(), "romeo@localhost");
  assert.equal(inbound.from?.toString(), "juliet@localhost/balcony");
  assert.equal(inbound.origin, juliet);
  assert.equal(world.take(romeo)[0]?.getChildText("body"), "hi");
  await world.stop();
});

Deno.test("a message from a session without to fires message/bare for its own account with an event of its own", async () => {
  const events: StanzaEvent[] = [];
  const feature: SmFeature = {
    name: "own-account",
    register(sm) {
      sm.api.hook<StanzaEvent>("message/bare", (event) => {
        events.push(event);
        return true;
      }, 10);
    },
  };
  const world = await smWorld({ features: [feature] });
  const juliet = world.bind("juliet@localhost/balcony");
  await world.send(xml("message", { type: "chat" }, xml("body", {}, "note to self")), juliet);
  assert.equal(events.length, 1);
  assert.equal(events[0].to.toString(), "juliet@localhost");
  assert.equal(events[0].from?.toString(), "juliet@localhost/balcony");
  await world.stop();
});
