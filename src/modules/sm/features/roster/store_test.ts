import assert from "node:assert/strict";
import type { XdbClient } from "../../../../server/module_api.ts";
import { type Element, xml } from "../../../../xml/element.ts";
import { parse } from "../../_testing.ts";
import {
  itemElement,
  parseRoster,
  RosterStore,
  rosterVersion,
  stateOfContact,
  VIEW_MS,
} from "./store.ts";
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

/** An XdbClient over one map of rosters that counts reads (only what RosterStore uses). */
function countingXdb(rosters: Map<string, Element>) {
  const counts = { gets: 0 };
  const xdb = {
    get: (owner: string) => {
      counts.gets++;
      return Promise.resolve(rosters.get(owner)?.clone());
    },
    insert: (owner: string, _ns: string, item: Element) => {
      const query = rosters.get(owner) ?? xml("query", { xmlns: "jabber:iq:roster" });
      query.children = query.children.filter((child) =>
        typeof child === "string" || child.attrs.jid !== item.attrs.jid
      );
      query.append(item);
      rosters.set(owner, query);
      return Promise.resolve();
    },
    remove: () => Promise.resolve(),
  } as unknown as XdbClient;
  return { xdb, counts };
}

function bothWith(...jids: string[]): Element {
  const query = xml("query", { xmlns: "jabber:iq:roster" });
  for (const jid of jids) query.append(xml("item", { jid, subscription: "both" }));
  return query;
}

Deno.test("RosterStore.view() reads a user's roster once per VIEW_MS while the user has sessions, and writes update the view", async () => {
  const rosters = new Map([["alice@localhost", bothWith("bob@localhost")]]);
  const { xdb, counts } = countingXdb(rosters);
  const online = new Set(["alice@localhost"]);
  let now = 1_000;
  const store = new RosterStore(xdb, { hasSessions: (o) => online.has(o), now: () => now });
  for (let i = 0; i < 50; i++) {
    assert.equal((await store.view("alice@localhost")).seenBy("bob@localhost"), true);
  }
  assert.equal(counts.gets, 1, "fifty probes, one read");
  await store.putItem("alice@localhost", {
    jid: "carol@localhost",
    subscription: "from",
    ask: false,
    approved: false,
    groups: [],
  });
  assert.equal((await store.view("alice@localhost")).seenBy("carol@localhost"), true);
  await store.removeItem("alice@localhost", "bob@localhost");
  assert.equal((await store.view("alice@localhost")).seenBy("bob@localhost"), false);
  assert.equal(counts.gets, 1);
  assert.deepEqual(store.views, { online: 1, offline: 0 });
  // Someone else changed the roster (another isolate): seen once the view is VIEW_MS old.
  rosters.set("alice@localhost", bothWith("dave@localhost"));
  assert.equal((await store.view("alice@localhost")).seenBy("dave@localhost"), false);
  now += VIEW_MS;
  assert.equal((await store.view("alice@localhost")).seenBy("dave@localhost"), true);
  assert.equal(counts.gets, 2);
  // The last session ended: the next login reads the roster again.
  online.delete("alice@localhost");
  store.forget("alice@localhost");
  assert.deepEqual(store.views, { online: 0, offline: 0 });
  await store.view("alice@localhost");
  assert.equal(counts.gets, 3);
});

Deno.test("RosterStore.view() keeps the view of a user without sessions for VIEW_MS, and reads again at login", async () => {
  const rosters = new Map([["bob@localhost", bothWith("alice@localhost")]]);
  const { xdb, counts } = countingXdb(rosters);
  let now = 1_000;
  const online = new Set<string>();
  const store = new RosterStore(xdb, { hasSessions: (o) => online.has(o), now: () => now });
  await store.view("bob@localhost");
  await store.view("bob@localhost");
  assert.equal(counts.gets, 1, "probes to bob offline share one read");
  assert.deepEqual(store.views, { online: 0, offline: 1 });
  now += VIEW_MS;
  await store.view("bob@localhost");
  assert.equal(counts.gets, 2, "an old view is read again");
  // bob logs in: his view is read from XDB, not taken from the one kept while offline.
  online.add("bob@localhost");
  rosters.set("bob@localhost", bothWith("carol@localhost"));
  assert.equal((await store.view("bob@localhost")).seenBy("carol@localhost"), true);
  assert.equal(counts.gets, 3);
  assert.deepEqual(store.views, { online: 1, offline: 0 });
});
