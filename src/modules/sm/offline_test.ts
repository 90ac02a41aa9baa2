import assert from "node:assert/strict";
import { NS_DELAY, NS_OFFLINE, NS_STANZAS_ERRORS } from "../../util/ns.ts";
import { worthStoring } from "./offline.ts";
import { parse, REMOTE, smWorld } from "./_testing.ts";

const ROMEO = `romeo@${REMOTE}/orchard`;

async function offlineWorld(config?: string) {
  const world = await smWorld({ config });
  await world.addUser("juliet@localhost");
  const send = (body: string, type = "chat") =>
    world.send(
      `<message from="${ROMEO}" to="juliet@localhost" type="${type}"><body>${body}</body></message>`,
    );
  const stored = async () =>
    (await world.sm.api.xdb.get("juliet@localhost", NS_OFFLINE))?.getChildren("message") ?? [];
  /** Opens a session and makes it available with `priority`, as the presence feature would. */
  const comeOnline = async (resource: string, priority: number) => {
    const session = world.bind(`juliet@localhost/${resource}`);
    const connection = world.connectionOf(session);
    session.available = true;
    session.priority = priority;
    world.sm.api.fire("session-available", { session });
    await world.settle();
    return { connection, session };
  };
  return { world, send, stored, comeOnline };
}

Deno.test("XEP-0160 a stored message carries a delay stamped by the host at the time it was taken", async () => {
  const { world, send, stored } = await offlineWorld();
  await send("one");
  const [message] = await stored();
  const delay = message.getChild("delay", NS_DELAY);
  assert.equal(delay?.attrs.from, "localhost");
  assert.equal(delay?.attrs.stamp, "2024-05-17T08:30:05.000Z");
  assert.equal(message.attrs.from, ROMEO);
  assert.equal(message.getChildText("body"), "one");
  await world.stop();
});

Deno.test("XEP-0160 a message beyond the quota is answered service-unavailable and not stored", async () => {
  const { world, send, stored } = await offlineWorld(`<offline quota="2"/>`);
  await send("one");
  await send("two");
  await send("three");
  assert.deepEqual((await stored()).map((m) => m.getChildText("body")), ["one", "two"]);
  assert.equal(world.remote.length, 1);
  assert.equal(world.remote[0].attrs.type, "error");
  assert.equal(world.remote[0].getChildText("body"), "three");
  assert.ok(world.remote[0].getChild("error")?.getChild("service-unavailable", NS_STANZAS_ERRORS));
  await world.stop();
});

Deno.test("XEP-0160 quota 0 turns storage off: the sender gets service-unavailable", async () => {
  const { world, send, stored } = await offlineWorld(`<offline quota="0"/>`);
  await send("one");
  assert.equal((await stored()).length, 0);
  assert.ok(world.remote[0].getChild("error")?.getChild("service-unavailable", NS_STANZAS_ERRORS));
  await world.stop();
});

Deno.test("XEP-0160 messages are delivered in order on the first non-negative available presence, then deleted", async () => {
  const { world, send, stored, comeOnline } = await offlineWorld();
  for (const body of ["one", "two", "three"]) await send(body);
  assert.equal((await stored()).length, 3);
  const { connection } = await comeOnline("balcony", 0);
  const got = world.take(connection);
  assert.deepEqual(got.map((m) => m.getChildText("body")), ["one", "two", "three"]);
  assert.ok(got.every((m) => m.getChild("delay", NS_DELAY)));
  assert.equal((await stored()).length, 0);
  await world.stop();
});

Deno.test("XEP-0160 a negative priority does not take offline messages; a later non-negative one does", async () => {
  const { world, send, stored, comeOnline } = await offlineWorld();
  await send("one");
  const hidden = await comeOnline("hidden", -1);
  assert.equal(world.take(hidden.session).length, 0);
  assert.equal((await stored()).length, 1);
  hidden.session.priority = 1;
  world.sm.api.fire("session-available", { session: hidden.session });
  await world.settle();
  assert.deepEqual(world.take(hidden.session).map((m) => m.getChildText("body")), ["one"]);
  assert.equal((await stored()).length, 0);
  await world.stop();
});

Deno.test("XEP-0160 a session takes the stored messages once, not on every presence update", async () => {
  const { world, send, comeOnline } = await offlineWorld();
  await send("one");
  const { connection, session } = await comeOnline("balcony", 0);
  assert.equal(world.take(connection).length, 1);
  await send("two");
  // Now available: the second message goes straight to the session.
  assert.equal(world.take(connection).length, 1);
  world.sm.api.fire("session-available", { session });
  await world.settle();
  assert.equal(world.take(connection).length, 0);
  await world.stop();
});

Deno.test("worthStoring() keeps bodies and receipts, drops bare chat states and no-store hints", () => {
  assert.equal(worthStoring(parse(`<message><body>hi</body></message>`)), true);
  assert.equal(
    worthStoring(parse(`<message><received xmlns="urn:xmpp:receipts" id="x"/></message>`)),
    true,
  );
  assert.equal(
    worthStoring(
      parse(`<message><composing xmlns="http://jabber.org/protocol/chatstates"/></message>`),
    ),
    false,
  );
  assert.equal(
    worthStoring(parse(`<message><body>hi</body><no-store xmlns="urn:xmpp:hints"/></message>`)),
    false,
  );
  assert.equal(
    worthStoring(
      parse(
        `<message><active xmlns="http://jabber.org/protocol/chatstates"/><store xmlns="urn:xmpp:hints"/></message>`,
      ),
    ),
    true,
  );
});
