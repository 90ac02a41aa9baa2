/**
 * Issue 11 (part 2), item 2: nothing is lost when both isolates are recycled between the write
 * of an inbox entry and its take. Alice on isolate A writes a message for bob into the inbox of
 * isolate B, which was killed a moment before; A is killed with SIGKILL before anyone takes it.
 * A third isolate, started afterwards, takes the entry over once B's heartbeat expired and hands
 * it to its sm, which stores it offline (XEP-0160); bob gets it at his next login. The entry is
 * deleted only after it was handed over, and a redelivery of it (a taker that died between
 * handing and deleting) is not stored twice.
 */
import assert from "node:assert/strict";
import type { InboxEntry } from "../deploy/isolates.ts";
import { xml } from "./interop/xmpp_js.ts";
import {
  aliceOnAbobOnB,
  inboxEntries,
  inboxHolds,
  jsOverWebSocket,
  startIsolate,
} from "./deploy_harness.ts";
import { NS_CLIENT } from "../src/util/ns.ts";

// B's ownership of bob must still look live to A when alice writes (well under one TTL after
// B's death), and A must die before B's heartbeat expires, when A would take the entry itself.
const TTL_MS = 4000;

Deno.test("issue 11 item 2: an inbox entry survives both isolates killed with SIGKILL between write and take: a new isolate stores it offline once, and bob gets it at his next login", async () => {
  const pair = await aliceOnAbobOnB(TTL_MS);
  const { kvPath, kv, a, b, alice, clients, isolates } = pair;
  try {
    await b.kill();
    await clients.pop()!.stop();
    await alice.send(
      xml(
        "message",
        { to: "bob@localhost", type: "chat", id: "m1" },
        xml("body", {}, "while both away"),
      ),
    );
    const [written] = await inboxHolds(kv, 1, 5000);
    await a.kill();
    await clients.pop()!.stop();
    // Nobody took it: it waits in B's inbox with both isolates gone.
    const [waiting] = await inboxEntries(kv);
    assert.deepEqual(waiting?.key, written.key);
    const entry = waiting.value as InboxEntry;
    assert.match(entry.stanza, /while both away/);

    const c = await startIsolate(kvPath, TTL_MS);
    isolates.push(c);
    // Taken over once B's heartbeat expired (at most a TTL after B's death).
    await inboxHolds(kv, 0, 3 * TTL_MS);
    // As if a taker died after handing the entry to its sm but before deleting it: the entry
    // is back, claimed by an isolate whose claim has run out.
    const redelivered: InboxEntry = { ...entry, claim: { isolate: "gone", until: Date.now() - 1 } };
    await kv.set(written.key, redelivered);
    await inboxHolds(kv, 0, 3 * TTL_MS);

    const again = await jsOverWebSocket(c.ws, "bob");
    clients.push(again);
    const stored = await again.waitFor("the offline message", (s) => s.is("message"));
    assert.equal(stored.getChildText("body", NS_CLIENT), "while both away");
    assert.equal(stored.attrs.from, "alice@localhost/web");
    assert.ok(stored.getChild("delay", "urn:xmpp:delay"), "stored offline: it carries a delay");
    // Offline messages go out in one pass before anything answered later: had the redelivery
    // been stored again, its copy would be here before the ping's answer.
    const pong = await again.exchange(
      xml("iq", { type: "get", to: "localhost" }, xml("ping", { xmlns: "urn:xmpp:ping" })),
    );
    assert.equal(pong.attrs.type, "result");
    await assert.rejects(
      again.waitFor("a second copy", (s) => s.is("message"), 0),
      /did not receive a second copy/,
    );
  } finally {
    await pair.close();
  }
});
