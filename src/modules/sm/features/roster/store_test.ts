import assert from "node:assert/strict";
import { xml } from "../../../../xml/element.ts";
import { parse } from "../../_testing.ts";
import { itemElement, parseRoster, rosterVersion, stateOfContact } from "./store.ts";
import { priorityOf } from "./presence.ts";

const STORED = parse(
  `<query xmlns="jabber:iq:roster">` +
    `<item jid="Bob@LocalHost" subscription="to" name="Bob"><group>Friends</group></item>` +
    `<item jid="carol@remote.example" subscription="bogus" ask="subscribe" approved="true"/>` +
    `<pending xmlns="jabberd:roster:pending" jid="dave@remote.example">` +
    `<presence type="subscribe" from="dave@remote.example"><status>hi</status></presence>` +
    `</pending><item jid="@broken"/></query>`,
);

Deno.test("parseRoster() reads items and pending requests by normalized bare JID", () => {
  const roster = parseRoster(STORED);
  assert.deepEqual([...roster.items.keys()], ["bob@localhost", "carol@remote.example"]);
  assert.deepEqual(roster.items.get("bob@localhost"), {
    jid: "bob@localhost",
    name: "Bob",
    subscription: "to",
    ask: false,
    approved: false,
    groups: ["Friends"],
  });
  // An unknown subscription value is read as none rather than trusted.
  assert.equal(roster.items.get("carol@remote.example")?.subscription, "none");
  assert.equal(roster.pending.get("dave@remote.example")?.getChildText("status"), "hi");
  assert.equal(stateOfContact(roster, "bob@localhost"), "To");
  assert.equal(stateOfContact(roster, "carol@remote.example"), "None + Pending Out");
  assert.equal(stateOfContact(roster, "dave@remote.example"), "None + Pending In");
  assert.equal(stateOfContact(roster, "nobody@remote.example"), "None");
});

Deno.test("itemElement() writes the client's form, and the remove form without details", () => {
  const item = parseRoster(STORED).items.get("carol@remote.example")!;
  assert.equal(
    itemElement(item).toString(),
    `<item jid='carol@remote.example' subscription='none' ask='subscribe' approved='true'/>`,
  );
  const bob = parseRoster(STORED).items.get("bob@localhost")!;
  assert.equal(
    itemElement(bob, true).toString(),
    `<item jid='bob@localhost' name='Bob' subscription='remove'/>`,
  );
});

Deno.test("rosterVersion() changes with the items clients see, not with pending requests", async () => {
  const roster = parseRoster(STORED);
  const ver = await rosterVersion(roster);
  assert.match(ver, /^[0-9a-f]{32}$/);
  roster.pending.clear();
  assert.equal(await rosterVersion(roster), ver);
  roster.items.get("bob@localhost")!.groups.push("Work");
  assert.notEqual(await rosterVersion(roster), ver);
  assert.notEqual(await rosterVersion(parseRoster(undefined)), ver);
});

Deno.test("priorityOf() reads -128..127 and falls back to 0", () => {
  const of = (text?: string) =>
    priorityOf(
      text === undefined ? xml("presence") : xml("presence", {}, xml("priority", {}, text)),
    );
  assert.equal(of(), 0);
  assert.equal(of(" 5 "), 5);
  assert.equal(of("-128"), -128);
  assert.equal(of("128"), 0);
  assert.equal(of("high"), 0);
});
