/**
 * The Deno Deploy entry (deploy/main.ts) under `deno serve`, two processes sharing one KV file
 * as two isolates: xmpp.js over WebSocket (RFC 7395) logs alice into one and bob into the other,
 * their messages cross through the isolates' inbox keys in KV, and once bob's isolate is gone a
 * message for him is stored offline (XEP-0160) and delivered when he logs in to the other.
 */
import assert from "node:assert/strict";
import { xml } from "./interop/xmpp_js.ts";
import { aliceOnAbobOnB, inboxHolds, jsOverWebSocket } from "./deploy_harness.ts";
import { NS_CLIENT, NS_STANZAS_ERRORS } from "../src/util/ns.ts";

const TTL_MS = 1500;

Deno.test("deploy/main.ts under deno serve: two isolates on one KV deliver to each other's users, and offline once one is gone", async () => {
  const pair = await aliceOnAbobOnB(TTL_MS);
  const { kv, a, b, clients } = pair;
  try {
    try {
      const { alice, bob } = pair;
      await alice.send(
        xml("message", { to: "bob@localhost/web", type: "chat" }, xml("body", {}, "hi from A")),
      );
      const got = await bob.waitFor("alice's message", (s) => s.is("message"));
      assert.equal(got.getChildText("body", NS_CLIENT), "hi from A");
      assert.equal(got.attrs.from, "alice@localhost/web");
      await bob.send(
        xml("message", { to: "alice@localhost", type: "chat" }, xml("body", {}, "hi from B")),
      );
      const back = await alice.waitFor("bob's message", (s) => s.is("message"));
      assert.equal(back.getChildText("body", NS_CLIENT), "hi from B");
      // RFC 6121 §8.5.3.2.1: to a resource nobody holds, as to the bare JID: where bob is.
      await alice.send(
        xml("message", { to: "bob@localhost/gone", type: "chat" }, xml("body", {}, "to gone")),
      );
      const rerouted = await bob.waitFor("the message to a gone resource", (s) => s.is("message"));
      assert.equal(rerouted.getChildText("body", NS_CLIENT), "to gone");
      // Deno KV holds values up to 64 KiB: a larger stanza cannot cross, and the sender is told.
      await alice.send(
        xml(
          "message",
          { to: "bob@localhost/web", type: "chat", id: "big" },
          xml("body", {}, "x".repeat(61 * 1024)),
        ),
      );
      const refused = await alice.waitFor("the refusal", (s) => s.attrs.id === "big");
      assert.equal(refused.attrs.type, "error");
      assert.ok(
        refused.getChild("error", NS_CLIENT)?.getChild("resource-constraint", NS_STANZAS_ERRORS),
        refused.toString().slice(0, 300),
      );
      // Taken entries are deleted once handed over: none is left for the kill below to orphan
      // (an entry B had handed but not yet deleted would be taken over, delivered again).
      await inboxHolds(kv, 0, 5000);
    } finally {
      // Bob's isolate is recycled without a word: his ownership in KV only expires.
      await b.kill();
    }
    await clients.pop()!.stop();
    const alice = clients[0];
    await alice.send(
      xml("message", { to: "bob@localhost", type: "chat" }, xml("body", {}, "while away")),
    );
    // The entry for B's inbox is taken over once B's heartbeat expired (at most one TTL), by
    // A's next look at orphaned entries (every third of the TTL).
    await new Promise((resolve) => setTimeout(resolve, 2 * TTL_MS));
    const bob = await jsOverWebSocket(a.ws, "bob");
    clients.push(bob);
    const stored = await bob.waitFor("the offline message", (s) => s.is("message"));
    assert.equal(stored.getChildText("body", NS_CLIENT), "while away");
  } finally {
    await pair.close();
  }
});
