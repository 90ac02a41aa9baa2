/**
 * Issue 11 (part 2), item 1: not only messages cross Deno Deploy isolates. Alice on isolate A
 * and bob on isolate B (two `deno serve` processes on one KV file) subscribe to each other
 * (RFC 6121 §3), see each other's broadcast, directed and unavailable presence (§4), get each
 * other's presence by probe when logging in (§4.3), and an iq to the other's full JID (XEP-0199
 * ping) is answered by the other's client (§8.5.3.1).
 */
import assert from "node:assert/strict";
import { xml, type XmlElement } from "./interop/xmpp_js.ts";
import { aliceOnAbobOnB, jsOverWebSocket } from "./deploy_harness.ts";

// Long enough that a busy machine never lets an ownership lapse: nothing here waits for one to.
const TTL_MS = 5000;

const from = (jid: string, type?: string) => (s: XmlElement) =>
  s.is("presence") && s.attrs.from === jid && s.attrs.type === type;

Deno.test("issue 11 item 1: presence (subscriptions, broadcast, directed, probe, unavailable) and iq to a full JID cross isolates", async () => {
  const pair = await aliceOnAbobOnB(TTL_MS, { roster: true });
  const { a, b, bob, clients } = pair;
  try {
    try {
      let alice = pair.alice;

      // Subscriptions both ways: each request and approval is processed by the isolate of
      // the user it is for.
      await alice.send(xml("presence", { to: "bob@localhost", type: "subscribe" }));
      await bob.waitFor("alice's subscription request", from("alice@localhost", "subscribe"));
      await bob.send(xml("presence", { to: "alice@localhost", type: "subscribed" }));
      await alice.waitFor("bob's approval", from("bob@localhost", "subscribed"));
      // §3.1.5: the approving user's presence follows the approval, from B to A.
      await alice.waitFor("bob's presence after approving", from("bob@localhost/web"));
      await bob.send(xml("presence", { to: "alice@localhost", type: "subscribe" }));
      await alice.waitFor("bob's subscription request", from("bob@localhost", "subscribe"));
      await alice.send(xml("presence", { to: "bob@localhost", type: "subscribed" }));
      await bob.waitFor("alice's approval", from("alice@localhost", "subscribed"));
      await bob.waitFor("alice's presence after approving", from("alice@localhost/web"));

      // A broadcast (§4.4) from A reaches the contact on B.
      await alice.send(xml("presence", {}, xml("show", {}, "away"), xml("status", {}, "lunch")));
      const away = await bob.waitFor(
        "alice's broadcast",
        (s) => from("alice@localhost/web")(s) && s.getChildText("status") === "lunch",
      );
      assert.equal(away.getChildText("show"), "away");

      // Directed presence (§4.6) to a full JID held by the other isolate.
      await bob.send(
        xml("presence", { to: "alice@localhost/web" }, xml("status", {}, "just for you")),
      );
      await alice.waitFor(
        "bob's directed presence",
        (s) => from("bob@localhost/web")(s) && s.getChildText("status") === "just for you",
      );

      // An iq to a full JID held by the other isolate is answered by that client (XEP-0199).
      bob.xmpp.iqCallee.get("urn:xmpp:ping", "ping", () => true);
      const pong = await alice.exchange(
        xml(
          "iq",
          { type: "get", to: "bob@localhost/web" },
          xml("ping", { xmlns: "urn:xmpp:ping" }),
        ),
      );
      assert.equal(pong.attrs.type, "result", pong.toString());
      assert.equal(pong.attrs.from, "bob@localhost/web");

      // Alice leaves (§4.5.1; xmpp.js keeps the session resumable, XEP-0198, so she says so)
      // and logs in again: her probe (§4.3) crosses to B, whose answer crosses back.
      await alice.send(xml("presence", { type: "unavailable" }));
      await clients.shift()!.stop();
      await bob.waitFor("alice going away", from("alice@localhost/web", "unavailable"));
      alice = await jsOverWebSocket(a.ws, "alice", { roster: true });
      clients.unshift(alice);
      const probed = await alice.waitFor("bob's presence, probed", from("bob@localhost/web"));
      assert.equal(probed.getChildText("status"), null);
      await bob.waitFor("alice back", from("alice@localhost/web"));

      // Bob leaves on B: his unavailable presence crosses to A (§4.5.1).
      await bob.send(xml("presence", { type: "unavailable" }));
      await alice.waitFor("bob going away", from("bob@localhost/web", "unavailable"));
    } finally {
      await b.kill();
    }
  } finally {
    await pair.close();
  }
});
