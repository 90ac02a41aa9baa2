/** Tests of named events inside a section (Prosody-style hooks with priorities). */
import assert from "node:assert/strict";
import { Events } from "./events.ts";

Deno.test("Events.fire() runs hooks highest priority first, in registration order on ties", () => {
  const events = new Events();
  const ran: string[] = [];
  events.hook("iq-get/host/urn:xmpp:ping:ping", () => void ran.push("low"), -1);
  events.hook("iq-get/host/urn:xmpp:ping:ping", () => void ran.push("zero a"));
  events.hook("iq-get/host/urn:xmpp:ping:ping", () => void ran.push("high"), 10);
  events.hook("iq-get/host/urn:xmpp:ping:ping", () => void ran.push("zero b"), 0);
  assert.equal(events.fire("iq-get/host/urn:xmpp:ping:ping", {}), undefined);
  assert.deepEqual(ran, ["high", "zero a", "zero b", "low"]);
});

Deno.test("Events.fire() stops at the first hook that returns something and returns it", () => {
  const events = new Events();
  const ran: string[] = [];
  events.hook<{ n: number }>("presence/bare", (data) => {
    ran.push("first");
    return data.n > 1 ? "handled" : undefined;
  }, 5);
  events.hook("presence/bare", () => {
    ran.push("second");
    return false;
  });
  events.hook("presence/bare", () => void ran.push("third"), -5);
  assert.equal(events.fire("presence/bare", { n: 2 }), "handled");
  assert.equal(events.fire("presence/bare", { n: 1 }), false, "false is an answer too");
  assert.deepEqual(ran, ["first", "first", "second"]);
  assert.equal(events.fire("no/such/event", {}), undefined);
});

Deno.test("Events.hook() returns a remover that takes only that hook away", () => {
  const events = new Events();
  const ran: string[] = [];
  const same = () => void ran.push("shared");
  const removeFirst = events.hook("message/bare", same);
  events.hook("message/bare", same);
  removeFirst();
  events.fire("message/bare", {});
  assert.deepEqual(ran, ["shared"]);
  // Removing during a fire does not disturb the hooks of that fire.
  const removers: (() => void)[] = [];
  removers.push(events.hook("x", () => {
    removers[1]();
    ran.push("remover");
  }, 1));
  removers.push(events.hook("x", () => void ran.push("removed")));
  events.fire("x", {});
  events.fire("x", {});
  assert.deepEqual(ran, ["shared", "remover", "removed", "remover"]);
  removers[0]();
  removers[0]();
  assert.equal(events.fire("x", {}), undefined);
});
