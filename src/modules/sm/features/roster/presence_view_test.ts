import assert from "node:assert/strict";
import { parse } from "../../_testing.ts";
import { PresenceView } from "./presence_view.ts";
import { parseRoster } from "./store.ts";

const ROSTER = parseRoster(parse(
  `<query xmlns="jabber:iq:roster">` +
    `<item jid="dora@localhost" subscription="both"/>` +
    `<item jid="Bob@LocalHost" subscription="from"><group>Friends</group></item>` +
    `<item jid="carol@remote.example" subscription="to" name="Carol"/>` +
    `<item jid="eve@localhost" subscription="none" ask="subscribe"/>` +
    `<pending xmlns="jabberd:roster:pending" jid="frank@localhost">` +
    `<presence type="subscribe" from="frank@localhost"/></pending></query>`,
));

Deno.test("PresenceView.of() keeps from/both contacts as subscribers, to/both as publishers, none of the others", () => {
  const view = PresenceView.of(ROSTER);
  assert.deepEqual(view.subscribers(), ["bob@localhost", "dora@localhost"]);
  assert.deepEqual(view.publishers(), ["carol@remote.example", "dora@localhost"]);
  assert.equal(view.seenBy("bob@localhost"), true);
  assert.equal(view.seenBy("dora@localhost"), true);
  assert.equal(view.seenBy("carol@remote.example"), false, "to: the contact may not see the user");
  assert.equal(view.seenBy("eve@localhost"), false, "none with ask: not a subscriber");
  assert.equal(view.seenBy("nobody@localhost"), false);
  assert.equal(view.hasPending, true);
  assert.equal(PresenceView.of(parseRoster(undefined)).hasPending, false);
  assert.deepEqual(PresenceView.of(parseRoster(undefined)).subscribers(), []);
});

Deno.test("PresenceView follows setItem, removeItem and setPending as the roster changes", () => {
  const view = PresenceView.of(ROSTER);
  const item = (jid: string, subscription: "none" | "to" | "from" | "both") => ({
    jid,
    subscription,
    ask: false,
    approved: false,
    groups: [],
  });
  view.setItem(item("eve@localhost", "from"));
  view.setItem(item("carol@remote.example", "both"));
  view.setItem(item("aaron@localhost", "to"));
  assert.deepEqual(view.subscribers(), [
    "bob@localhost",
    "carol@remote.example",
    "dora@localhost",
    "eve@localhost",
  ]);
  assert.deepEqual(view.publishers(), [
    "aaron@localhost",
    "carol@remote.example",
    "dora@localhost",
  ]);
  view.setItem(item("dora@localhost", "none"));
  view.removeItem("bob@localhost");
  view.removeItem("nobody@localhost");
  assert.deepEqual(view.subscribers(), ["carol@remote.example", "eve@localhost"]);
  assert.equal(view.seenBy("dora@localhost"), false);
  assert.equal(view.seenBy("bob@localhost"), false);
  view.setPending("frank@localhost", false);
  assert.equal(view.hasPending, false);
  view.setPending("gina@localhost", true);
  assert.equal(view.hasPending, true);
});
