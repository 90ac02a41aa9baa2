/**
 * Issue 9, "A stop with users online": `Server.stop()` closes the client streams first
 * (RFC 6120 §4.9.3.20 system-shutdown), lets the session manager send each session's
 * unavailable presence (RFC 6121 §4.5.2) and store its last logout (XEP-0012) while XDB still
 * answers, and only then stops the sections, whatever their order in the config.
 */
import assert from "node:assert/strict";
import { addUser, c2sSection, login } from "../src/modules/c2s/_testing.ts";
import { XdbStore } from "../src/modules/xdb/store.ts";
import { testServer, waitFor } from "../src/server/_testing.ts";
import { Element } from "../src/xml/element.ts";

const C2S = c2sSection();
const SM = `<service id="sessions"><host>localhost</host><sm xmlns="jabberd:config:sm"/></service>`;
const XDB = `<xdb id="xdb"><host/><kv>data/jabberd.kv</kv></xdb>`;
const LOG = `<log id="logs"><host/><file>logs/jabberd.log</file></log>`;

/** A `<presence>` start tag from `from` (a prefix), of `type` if given, attributes in any order. */
function presence(from: string, type?: string): RegExp {
  const typed = type === undefined ? "" : `(?=[^>]*type='${type}')`;
  return new RegExp(`<presence(?=[^>]*from='${from.replaceAll(".", "\\.")})${typed}[^>]*>`);
}

/** Two users online, each other's contacts and both contacts of carol@remote.test; then stop. */
async function stopWithUsersOnline(sections: string[]) {
  const world = await testServer(`<jabberd>${sections.join("\n")}</jabberd>`);
  // Another server's domain, as an instance that keeps what it is sent.
  const remote = world.collect("remote", ["remote.test"]);
  const presences = (type?: string) =>
    remote.map((packet) => packet.element).filter((element) =>
      element.name === "presence" && element.attrs.type === type
    );
  const online = async (user: string, resource: string) => {
    await addUser(world, user);
    const client = await login(world, user, resource);
    client.send("<presence/>");
    await client.next(presence(`${user}@localhost/${resource}`));
    return client;
  };
  try {
    const alice = await online("alice", "home");
    const bob = await online("bob", "work");
    const pairs = [[alice, "alice", bob, "bob"], [bob, "bob", alice, "alice"]] as const;
    for (const [asker, askerName, owner, ownerName] of pairs) {
      asker.send(`<presence to='${ownerName}@localhost' type='subscribe'/>`);
      await owner.next(presence(`${askerName}@localhost`, "subscribe"));
      owner.send(`<presence to='${askerName}@localhost' type='subscribed'/>`);
      await asker.next(presence(`${ownerName}@localhost/`));
    }
    for (const [client, name] of [[alice, "alice"], [bob, "bob"]] as const) {
      world.router.deliver(
        new Element("presence", {
          from: "carol@remote.test",
          to: `${name}@localhost`,
          type: "subscribe",
        }),
      );
      await client.next(presence("carol@remote.test", "subscribe"));
      client.send("<presence to='carol@remote.test' type='subscribed'/>");
    }
    await waitFor(() => presences().length === 2, "carol got both presences");
    remote.length = 0;

    await world.server.stop();

    const kv = await world.memory.adapters.kv.open("/etc/jabberd/data/jabberd.kv");
    const store = new XdbStore(kv);
    const logFile = await world.memory.files.readTextFile("/etc/jabberd/logs/jabberd.log");
    return {
      streamErrors: [alice.text, bob.text].filter((text) => /<system-shutdown/.test(text)).length,
      unavailable: presences("unavailable").map((e) => `${e.attrs.from} → ${e.attrs.to}`).sort(),
      last: [
        await store.get("alice@localhost", "jabber:iq:last"),
        await store.get("bob@localhost", "jabber:iq:last"),
      ],
      problems: [
        ...logFile.split("\n").filter((line) => /^\S+ \S+ (warn|error|alert) /.test(line)),
        ...world.logLines(),
      ],
    };
  } finally {
    await world.stop();
  }
}

function assertCleanStop(result: Awaited<ReturnType<typeof stopWithUsersOnline>>): void {
  assert.deepEqual(result.problems, [], "no warning or error is logged");
  assert.equal(result.streamErrors, 2, "both clients got a system-shutdown stream error");
  assert.deepEqual(result.unavailable, [
    "alice@localhost/home → carol@remote.test",
    "bob@localhost/work → carol@remote.test",
  ]);
  const [alice, bob] = result.last;
  assert.ok(alice?.attrs.stamp, "alice's last logout is stored");
  assert.ok(bob?.attrs.stamp, "bob's last logout is stored");
}

Deno.test("Server.stop() with users online sends their unavailable presence and stores their last logout", async () => {
  assertCleanStop(await stopWithUsersOnline([C2S, SM, XDB, LOG]));
});

Deno.test("Server.stop() with users online is clean whatever the order of the sections in the config", async () => {
  assertCleanStop(await stopWithUsersOnline([LOG, SM, XDB, C2S]));
  assertCleanStop(await stopWithUsersOnline([XDB, C2S, LOG, SM]));
});
