import assert from "node:assert/strict";
import { NS_STANZAS_ERRORS } from "../../util/ns.ts";
import { xml } from "../../xml/element.ts";
import { parseFragment } from "../../xml/stream_parser.ts";
import { coreFeatures, SHUTDOWN } from "./mod.ts";
import { REMOTE, smWorld } from "./_testing.ts";
import type { Session, SessionEvent, SmFeature } from "./types.ts";

/** A feature that records the lifecycle events, and whether the session was still registered. */
function lifecycleRecorder() {
  const events: { name: string; jid: string; reason?: string; registered: boolean }[] = [];
  const feature: SmFeature = {
    name: "recorder",
    register(sm) {
      for (const name of ["resource-bind", "resource-unbind"]) {
        sm.api.hook<SessionEvent>(name, ({ session, reason }) => {
          const registered = sm.sessions.get(session.jid.toString()) === session;
          events.push({ name, jid: session.jid.toString(), reason, registered });
        });
      }
    },
  };
  return { events, feature };
}

Deno.test("route open: the sm answers opened with the full JID and fires resource-bind", async () => {
  const { events, feature } = lifecycleRecorder();
  const world = await smWorld({ features: [...coreFeatures, feature] });
  const { connection, jid } = world.open("Juliet@LOCALHOST/balcony");
  assert.equal(jid, "juliet@localhost/balcony");
  assert.deepEqual(connection.routes.map((route) => route.toString()), [
    `<route type='session' to='c2s/1' from='juliet@localhost/balcony'/>`,
  ]);
  assert.equal(world.sm.sessions.size, 1);
  assert.equal(world.sm.sessions.get("juliet@localhost/balcony")?.route, "c2s/1");
  assert.deepEqual(events, [
    { name: "resource-bind", jid: "juliet@localhost/balcony", reason: undefined, registered: true },
  ]);
  await world.stop();
});

Deno.test("route open: a session request for a bare JID is refused with jid-malformed", async () => {
  const world = await smWorld();
  const { connection, jid } = world.open("juliet@localhost");
  assert.equal(jid, undefined);
  assert.equal(connection.routes.length, 1);
  assert.equal(connection.routes[0].attrs.type, "error");
  assert.ok(connection.routes[0].getChild("error")?.getChild("jid-malformed", NS_STANZAS_ERRORS));
  assert.equal(world.sm.sessions.size, 0);
  await world.stop();
});

Deno.test("route open: a new session for the same resource replaces the old one with conflict", async () => {
  const { events, feature } = lifecycleRecorder();
  const world = await smWorld({ features: [...coreFeatures, feature] });
  const first = world.open("juliet@localhost/balcony");
  const second = world.open("juliet@localhost/balcony");
  assert.equal(second.jid, "juliet@localhost/balcony");
  // The old connection is told to end with conflict.
  const end = first.connection.routes.at(-1)!;
  assert.equal(end.attrs.type, "error");
  assert.equal(end.attrs.to, "c2s/1");
  assert.equal(end.attrs.from, "juliet@localhost/balcony");
  assert.ok(end.getChild("error")?.getChild("conflict", NS_STANZAS_ERRORS));
  assert.equal(world.sm.sessions.get("juliet@localhost/balcony")?.route, "c2s/2");
  assert.equal(world.sm.sessions.size, 1);
  assert.deepEqual(events.map((e) => [e.name, e.reason, e.registered]), [
    ["resource-bind", undefined, true],
    ["resource-unbind", "replaced", true],
    ["resource-bind", undefined, true],
  ]);
  await world.stop();
});

Deno.test("route stanza in and out: a stanza from a session reaches another session", async () => {
  const world = await smWorld();
  const juliet = world.open("juliet@localhost/balcony");
  const romeo = world.open("romeo@localhost/orchard");
  world.sm.sessions.get(romeo.jid!)!.available = true;
  await world.send(
    `<message to="romeo@localhost/orchard" type="chat"><body>Art thou?</body></message>`,
    world.sm.sessions.get(juliet.jid!)!,
  );
  const got = world.take(romeo.connection);
  assert.equal(got.length, 1);
  assert.equal(got[0].attrs.from, "juliet@localhost/balcony");
  assert.equal(got[0].getChildText("body"), "Art thou?");
  // The route out is addressed from the session's full JID to its connection.
  assert.equal(romeo.connection.routes.length, 1);
  await world.stop();
});

Deno.test("route stanza in: the sm stamps from with the session's full JID", async () => {
  const world = await smWorld();
  const juliet = world.open("juliet@localhost/balcony");
  const element = xml("message", { to: `nurse@${REMOTE}`, from: "mallory@localhost/x" });
  world.router.deliver(xml("route", { to: juliet.jid!, from: "c2s/1" }, element));
  await world.settle();
  assert.equal(world.remote.length, 1);
  assert.equal(world.remote[0].attrs.from, "juliet@localhost/balcony");
  await world.stop();
});

Deno.test("route stanza in: a route for an unknown session ends that connection", async () => {
  const world = await smWorld();
  const juliet = world.open("juliet@localhost/balcony");
  // The route claims another connection for Juliet's session.
  world.connections.set("9", { id: "9", routes: [], alive: true });
  world.router.deliver(
    xml("route", { to: juliet.jid!, from: "c2s/9" }, xml("presence")),
  );
  await world.settle();
  const routes = world.connections.get("9")!.routes;
  assert.equal(routes.length, 1);
  assert.equal(routes[0].attrs.type, "error");
  assert.ok(routes[0].getChild("error")?.getChild("item-not-found", NS_STANZAS_ERRORS));
  // Juliet's real session is untouched.
  assert.equal(world.sm.sessions.size, 1);
  await world.stop();
});

Deno.test("route end: c2s closing the connection fires resource-unbind before forgetting", async () => {
  const { events, feature } = lifecycleRecorder();
  const world = await smWorld({ features: [...coreFeatures, feature] });
  const juliet = world.open("juliet@localhost/balcony");
  world.router.deliver(xml("route", { type: "error", to: juliet.jid!, from: "c2s/1" }));
  await world.settle();
  assert.equal(world.sm.sessions.size, 0);
  assert.deepEqual(events.at(-1), {
    name: "resource-unbind",
    jid: "juliet@localhost/balcony",
    reason: "closed",
    registered: true,
  });
  // Nothing is sent back for an end c2s sent.
  assert.equal(juliet.connection.routes.length, 1);
  await world.stop();
});

Deno.test("route undeliverable: a router bounce ends the session and salvages a chat message", async () => {
  const { events, feature } = lifecycleRecorder();
  const world = await smWorld({ features: [...coreFeatures, feature] });
  await world.addUser("juliet@localhost");
  const juliet = world.open("juliet@localhost/balcony");
  const session: Session = world.sm.sessions.get(juliet.jid!)!;
  session.available = true;
  juliet.connection.alive = false;
  await world.send(
    `<message from="romeo@${REMOTE}/x" to="juliet@localhost" type="chat"><body>Hi</body></message>`,
  );
  assert.equal(world.sm.sessions.size, 0);
  assert.equal(events.at(-1)?.reason, "undeliverable");
  // The message was not lost: with no session left it went to offline storage.
  const stored = await world.sm.api.xdb.get("juliet@localhost", "jabber:x:offline");
  assert.equal(stored?.getChildren("message").length, 1);
  assert.equal(stored?.getChild("message")?.getChildText("body"), "Hi");
  await world.stop();
});

Deno.test("route end: stopping the sm ends every session towards c2s", async () => {
  const world = await smWorld();
  const juliet = world.open("juliet@localhost/balcony");
  await world.stop();
  const end = juliet.connection.routes.at(-1)!;
  assert.equal(end.attrs.type, "error");
  assert.equal(end.getChild("error")?.getChildText("text", NS_STANZAS_ERRORS), SHUTDOWN);
});

Deno.test("R39 an end carrying stanzas forgets the session before routing them again", async () => {
  const world = await smWorld();
  await world.addUser("juliet@localhost");
  const balcony = world.bind("juliet@localhost/balcony");
  const garden = world.bind("juliet@localhost/garden");
  balcony.available = true;
  garden.available = true;
  // What c2s wrote to balcony and its client never acknowledged (XEP-0198).
  const unacked = [
    `<message from="romeo@${REMOTE}/x" to="juliet@localhost/balcony" type="chat"><body>Hi</body></message>`,
    `<iq from="juliet@localhost/garden" to="juliet@localhost/balcony" type="get" id="v1"><query xmlns="jabber:iq:version"/></iq>`,
    `<presence from="romeo@${REMOTE}/x" to="juliet@localhost/balcony"/>`,
  ].map((text) => parseFragment(text));
  world.router.deliver(
    xml(
      "route",
      { type: "error", to: "juliet@localhost/balcony", from: balcony.route },
      ...unacked,
    ),
  );
  await world.settle();
  assert.equal(world.sm.sessions.get("juliet@localhost/balcony"), undefined);
  // The message went to the other resource (not back to the dead one), the iq came back as an
  // error, the presence was dropped.
  const got = world.take(garden).filter((stanza) => !stanza.is("presence"));
  const message = got.find((stanza) => stanza.is("message"));
  assert.equal(message?.getChildText("body"), "Hi");
  const error = got.find((stanza) => stanza.is("iq"));
  assert.equal(error?.attrs.type, "error");
  assert.equal(error?.attrs.id, "v1");
  assert.equal(got.length, 2);
  assert.equal(world.connectionOf(balcony).routes.filter((r) => !r.attrs.type).length, 0);
  await world.stop();
});
