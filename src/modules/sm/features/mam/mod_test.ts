import assert from "node:assert/strict";
import type { Element } from "../../../../xml/element.ts";
import { parse, type SmWorld, smWorld } from "../../_testing.ts";
import { coreFeatures } from "../../mod.ts";
import type { Session } from "../../types.ts";
import { blocking } from "../blocking.ts";
import { carbons } from "../carbons.ts";
import { disco } from "../disco.ts";
import { presence, roster, subscription } from "../roster/mod.ts";
import { mam } from "./mod.ts";
import { NS_CLIENT, NS_STANZAS_ERRORS } from "../../../../util/ns.ts";

const MAM = "urn:xmpp:mam:2";
const SID = "urn:xmpp:sid:0";
const RSM = "http://jabber.org/protocol/rsm";
const CLIENT = "jabber:client";
const FEATURES = [...coreFeatures, roster, subscription, presence, blocking, carbons, disco, mam];

async function world(config = "") {
  const w = await smWorld({ features: FEATURES, config });
  for (const user of ["alice", "bob", "carol"]) await w.addUser(`${user}@localhost`);
  return Object.assign(w, { [Symbol.asyncDispose]: () => w.stop() });
}

/** Binds a session and sends its initial presence, so that bare-JID messages reach it. */
async function online(w: SmWorld, full: string): Promise<Session> {
  const session = w.bind(full);
  await w.send(`<presence/>`, session);
  w.take(session);
  return session;
}

function stanzaIds(message: Element): Record<string, string> {
  const ids: Record<string, string> = {};
  for (const sid of message.getChildren("stanza-id", SID)) ids[sid.attrs.by] = sid.attrs.id;
  return ids;
}

interface Answer {
  results: Element[];
  ids: string[];
  bodies: string[];
  fin: Element | undefined;
  error: Element | undefined;
}

/** Sends a MAM query (form fields and RSM as XML text) and reads the results and the fin. */
async function query(w: SmWorld, session: Session, inner = "", attrs = ""): Promise<Answer> {
  await w.send(
    `<iq type="set" id="q"><query xmlns="${MAM}" ${attrs}>${inner}</query></iq>`,
    session,
  );
  const got = w.take(session);
  const results = got.filter((s) => s.name === "message" && s.getChild("result", MAM))
    .map((m) => m.getChild("result", MAM)!);
  const iq = got.find((s) => s.name === "iq");
  const body = (r: Element) =>
    r.getChild("forwarded", "urn:xmpp:forward:0")!.getChild("message", CLIENT)!.getChildText(
      "body",
      CLIENT,
    )!;
  return {
    results,
    ids: results.map((r) => r.attrs.id),
    bodies: results.map(body),
    fin: iq?.attrs.type === "result" ? iq.getChild("fin", MAM) : undefined,
    error: iq?.attrs.type === "error" ? iq.getChild("error", NS_CLIENT) : undefined,
  };
}

function form(fields: Record<string, string | string[]>): string {
  const field = ([name, value]: [string, string | string[]]) =>
    `<field var="${name}">${[value].flat().map((v) => `<value>${v}</value>`).join("")}</field>`;
  return `<x xmlns="jabber:x:data" type="submit">` +
    `<field var="FORM_TYPE" type="hidden"><value>${MAM}</value></field>` +
    Object.entries(fields).map(field).join("") + `</x>`;
}

function rsm(inner: string): string {
  return `<set xmlns="${RSM}">${inner}</set>`;
}

function fromRemote(w: SmWorld, to: string, body: string, extra = "") {
  w.router.deliver(
    parse(
      `<message type="chat" from="romeo@remote.example/balcony" to="${to}"><body>${body}</body>${extra}</message>`,
    ),
  );
}

Deno.test("mam archives a message for both local users and stamps the recipient's id on delivery", async () => {
  await using w = await world();
  const alice = await online(w, "alice@localhost/phone");
  const bob = await online(w, "bob@localhost/pc");
  await w.send(`<message type="chat" to="bob@localhost" id="m1"><body>hi</body></message>`, alice);
  const [delivered] = w.take(bob);
  const bobsId = stanzaIds(delivered)["bob@localhost"];
  assert.ok(bobsId, "stanza-id by the recipient");
  assert.deepEqual(Object.keys(stanzaIds(delivered)), ["bob@localhost"]);
  const bobs = await query(w, bob);
  assert.deepEqual(bobs.ids, [bobsId]);
  assert.deepEqual(bobs.bodies, ["hi"]);
  assert.equal(bobs.fin?.attrs.complete, "true");
  const alices = await query(w, alice, "", `queryid="f27"`);
  assert.deepEqual(alices.bodies, ["hi"]);
  assert.equal(alices.results[0].attrs.queryid, "f27");
  assert.notEqual(alices.ids[0], bobsId, "each archive has its own id");
  const message = alices.results[0].getChild("forwarded", "urn:xmpp:forward:0")!;
  assert.ok(message.getChild("delay", "urn:xmpp:delay")?.attrs.stamp);
  assert.equal(message.getChild("message", CLIENT)?.attrs.from, "alice@localhost/phone");
});

Deno.test("mam gives carbons the stanza-id of the archive: sent copies the sender's, received copies the recipient's", async () => {
  await using w = await world();
  const phone = await online(w, "alice@localhost/phone");
  const pc = await online(w, "alice@localhost/pc");
  for (const s of [phone, pc]) {
    await w.send(`<iq type="set" id="c"><enable xmlns="urn:xmpp:carbons:2"/></iq>`, s);
    w.take(s);
  }
  await w.send(`<message type="chat" to="romeo@remote.example"><body>out</body></message>`, phone);
  const [sentCarbon] = w.take(pc);
  const inner = (carbon: Element, direction: string) =>
    carbon.getChild(direction, "urn:xmpp:carbons:2")!.getChild("forwarded", "urn:xmpp:forward:0")!
      .getChild("message", CLIENT)!;
  const sentId = stanzaIds(inner(sentCarbon, "sent"))["alice@localhost"];
  assert.ok(sentId);
  assert.equal(w.remote.at(-1)!.getChild("stanza-id", SID), undefined, "not told to the peer");

  fromRemote(w, "alice@localhost/phone", "in");
  await w.settle();
  const [original] = w.take(phone);
  const [receivedCarbon] = w.take(pc);
  const receivedId = stanzaIds(original)["alice@localhost"];
  assert.equal(stanzaIds(inner(receivedCarbon, "received"))["alice@localhost"], receivedId);
  assert.deepEqual((await query(w, phone)).ids, [sentId, receivedId]);
});

Deno.test("mam strips a stanza-id forged with the recipient as by, and keeps another entity's", async () => {
  await using w = await world();
  const alice = await online(w, "alice@localhost/phone");
  fromRemote(
    w,
    "alice@localhost",
    "forged",
    `<stanza-id xmlns="${SID}" by="alice@localhost" id="fake"/>` +
      `<stanza-id xmlns="${SID}" by="remote.example" id="theirs"/>`,
  );
  await w.settle();
  const [delivered] = w.take(alice);
  const ids = stanzaIds(delivered);
  assert.equal(ids["remote.example"], "theirs");
  assert.notEqual(ids["alice@localhost"], "fake");
  assert.equal(delivered.getChildren("stanza-id", SID).length, 2);
  assert.deepEqual((await query(w, alice)).ids, [ids["alice@localhost"]]);
  // Also when nothing is archived (a headline), and when the sender forges its own.
  await w.send(
    `<message to="bob@localhost" type="chat"><body>x</body><stanza-id xmlns="${SID}" by="alice@localhost" id="own"/></message>`,
    alice,
  );
  const archived = await query(w, alice, form({ with: "bob@localhost" }));
  assert.equal(archived.results[0].toString().includes(`id="own"`), false);
});

Deno.test("mam archives messages stored offline, so the phone that comes online finds them", async () => {
  await using w = await world();
  for (const n of [1, 2, 3]) fromRemote(w, "bob@localhost", `offline ${n}`);
  await w.settle();
  const bob = w.bind("bob@localhost/phone");
  await w.send(`<presence/>`, bob);
  const flood = w.take(bob).filter((s) => s.name === "message");
  assert.equal(flood.length, 3, "offline delivery");
  const answer = await query(w, bob);
  assert.deepEqual(answer.bodies, ["offline 1", "offline 2", "offline 3"]);
  assert.deepEqual(flood.map((m) => stanzaIds(m)["bob@localhost"]), answer.ids);
});

Deno.test("mam pages 3000 messages with RSM forwards and backwards, with count and complete", async () => {
  await using w = await world(`<mam max-page="500"/>`);
  const alice = await online(w, "alice@localhost/phone");
  for (let n = 0; n < 3000; n++) {
    fromRemote(w, "alice@localhost/phone", `m${n}`);
    if (n % 500 === 499) await w.settle();
  }
  await w.settle();
  assert.equal(w.take(alice).length, 3000);
  const forward: string[] = [];
  let after = "";
  for (let pages = 0; pages < 20; pages++) {
    const page = await query(w, alice, rsm(`<max>250</max>${after}`));
    forward.push(...page.bodies);
    const set = page.fin!.getChild("set", RSM)!;
    assert.equal(set.getChildText("count"), "3000");
    assert.equal(set.getChildText("first"), page.ids[0]);
    assert.equal(set.getChildText("last"), page.ids.at(-1));
    if (page.fin!.attrs.complete === "true") break;
    after = `<after>${page.ids.at(-1)}</after>`;
  }
  assert.deepEqual(forward, Array.from({ length: 3000 }, (_, n) => `m${n}`));

  const backward: string[] = [];
  let before = "<before/>";
  for (let pages = 0; pages < 20; pages++) {
    const page = await query(w, alice, rsm(`<max>400</max>${before}`));
    backward.unshift(...page.bodies);
    if (page.fin!.attrs.complete === "true") break;
    before = `<before>${page.ids[0]}</before>`;
  }
  assert.deepEqual(backward, forward);
  // Without <max>: the default page; <max> above max-page is cut down to it.
  assert.equal((await query(w, alice)).results.length, 50);
  assert.equal((await query(w, alice, rsm(`<max>9999</max>`))).results.length, 500);
  const counted = await query(w, alice, rsm(`<max>0</max>`));
  assert.deepEqual([
    counted.results.length,
    counted.fin!.getChild("set", RSM)!.getChildText("count"),
  ], [0, "3000"]);
});

Deno.test("mam filters by with (bare and full JID) and by start and end", async () => {
  await using w = await world();
  const alice = await online(w, "alice@localhost/phone");
  const bob = await online(w, "bob@localhost/pc");
  const start = w.clock.now();
  fromRemote(w, "alice@localhost", "from romeo");
  await w.settle();
  w.clock.advance(60_000);
  await w.send(`<message type="chat" to="alice@localhost"><body>from bob</body></message>`, bob);
  w.clock.advance(60_000);
  const other = w.bind("bob@localhost/tablet");
  await w.send(
    `<message type="chat" to="alice@localhost"><body>from tablet</body></message>`,
    other,
  );
  w.take(alice);
  assert.deepEqual((await query(w, alice, form({ with: "bob@localhost" }))).bodies, [
    "from bob",
    "from tablet",
  ]);
  assert.deepEqual((await query(w, alice, form({ with: "bob@localhost/tablet" }))).bodies, [
    "from tablet",
  ]);
  assert.deepEqual((await query(w, alice, form({ with: "romeo@remote.example" }))).bodies, [
    "from romeo",
  ]);
  const iso = (ms: number) => new Date(ms).toISOString();
  assert.deepEqual(
    (await query(w, alice, form({ start: iso(start + 30_000), end: iso(start + 60_000) }))).bodies,
    ["from bob"],
  );
  assert.deepEqual((await query(w, alice, form({ end: iso(start) }))).bodies, ["from romeo"]);
  assert.equal(
    (await query(w, alice, form({ start: "yesterday" }))).error?.getChild(
      "bad-request",
      NS_STANZAS_ERRORS,
    )?.name,
    "bad-request",
  );
  assert.ok(
    (await query(w, alice, form({ colour: "red" }))).error?.getChild(
      "bad-request",
      NS_STANZAS_ERRORS,
    ),
  );
});

Deno.test("mam extended: after-id, before-id, ids, flip-page and item-not-found", async () => {
  await using w = await world();
  const alice = w.bind("alice@localhost/phone");
  for (let n = 0; n < 10; n++) fromRemote(w, "alice@localhost/gone", `m${n}`);
  await w.settle();
  const all = await query(w, alice);
  const id = all.ids;
  assert.deepEqual((await query(w, alice, form({ "after-id": id[6] }))).bodies, ["m7", "m8", "m9"]);
  assert.deepEqual((await query(w, alice, form({ "before-id": id[2] }))).bodies, ["m0", "m1"]);
  assert.deepEqual(
    (await query(w, alice, form({ "after-id": id[2], "before-id": id[5] }))).bodies,
    ["m3", "m4"],
  );
  assert.deepEqual((await query(w, alice, form({ ids: [id[8], id[1]] }))).bodies, ["m1", "m8"]);
  const flipped = await query(w, alice, rsm(`<max>3</max><before/>`) + `<flip-page/>`);
  assert.deepEqual(flipped.bodies, ["m9", "m8", "m7"]);
  assert.equal(flipped.fin!.getChild("set", RSM)!.getChildText("first"), id[9]);
  const unknown = "01ARZ3NDEKTSV4RRFFQ69G5FAV";
  for (
    const inner of [
      form({ "after-id": unknown }),
      form({ "before-id": unknown }),
      rsm(`<after>${unknown}</after>`),
      rsm(`<before>${unknown}</before>`),
    ]
  ) {
    assert.ok(
      (await query(w, alice, inner)).error?.getChild("item-not-found", NS_STANZAS_ERRORS),
      inner,
    );
  }
  await w.send(`<iq type="get" id="md"><metadata xmlns="${MAM}"/></iq>`, alice);
  const metadata = w.take(alice)[0].getChild("metadata", MAM)!;
  assert.deepEqual([metadata.getChild("start")?.attrs.id, metadata.getChild("end")?.attrs.id], [
    id[0],
    id[9],
  ]);
  await w.send(`<iq type="get" id="ff"><query xmlns="${MAM}"/></iq>`, alice);
  const fields = w.take(alice)[0].getChild("query", MAM)!.getChild("x", "jabber:x:data")!;
  assert.ok(fields.getChildren("field").some((f) => f.attrs.var === "after-id"));
});

Deno.test("mam prefs: never, always and roster decide what is archived (XEP-0313 §6)", async () => {
  await using w = await world();
  const alice = await online(w, "alice@localhost/phone");
  const setPrefs = async (prefs: string) => {
    await w.send(`<iq type="set" id="p"><prefs xmlns="${MAM}" ${prefs}</prefs></iq>`, alice);
    return w.take(alice)[0];
  };
  const archivedNow = async () => (await query(w, alice)).bodies;
  const answer = await setPrefs(
    `default="always"><always/><never><jid>romeo@remote.example</jid></never>`,
  );
  assert.equal(
    answer.getChild("prefs", MAM)?.getChild("never")?.getChildText("jid"),
    "romeo@remote.example",
  );
  fromRemote(w, "alice@localhost", "never");
  await w.settle();
  const [delivered] = w.take(alice);
  assert.equal(delivered.getChild("stanza-id", SID), undefined, "not archived: no stanza-id");
  assert.deepEqual(await archivedNow(), []);

  await setPrefs(`default="never"><always><jid>romeo@remote.example</jid></always><never/>`);
  fromRemote(w, "alice@localhost", "always");
  await w.send(`<message type="chat" to="carol@localhost"><body>to carol</body></message>`, alice);
  await w.settle();
  assert.deepEqual(await archivedNow(), ["always"]);

  await setPrefs(`default="roster"><always/><never/>`);
  await w.send(
    `<iq type="set" id="r"><query xmlns="jabber:iq:roster"><item jid="carol@localhost"/></query></iq>`,
    alice,
  );
  w.take(alice);
  fromRemote(w, "alice@localhost", "not in roster");
  await w.send(`<message type="chat" to="carol@localhost"><body>in roster</body></message>`, alice);
  await w.settle();
  assert.deepEqual(await archivedNow(), ["always", "in roster"]);
  await w.send(`<iq type="get" id="g"><prefs xmlns="${MAM}"/></iq>`, alice);
  assert.equal(w.take(alice)[0].getChild("prefs", MAM)?.attrs.default, "roster");
});

Deno.test("mam default in the config applies to users without prefs, and retention sweeps old messages", async () => {
  await using w = await world(`<mam retention="2d" sweep="1h"/>`);
  const alice = await online(w, "alice@localhost/phone");
  fromRemote(w, "alice@localhost", "old");
  await w.settle();
  await w.clock.advanceAsync(36 * 3_600_000);
  fromRemote(w, "alice@localhost", "recent");
  await w.settle();
  w.take(alice);
  assert.deepEqual((await query(w, alice)).bodies, ["old", "recent"]);
  for (let hour = 0; hour < 14; hour++) await w.clock.advanceAsync(3_600_000);
  await w.settle();
  assert.deepEqual((await query(w, alice)).bodies, ["recent"]);
});

Deno.test("mam is advertised on the account and stanza ids on the host; <disable>mam</disable> turns both off", async () => {
  for (const disabled of [false, true]) {
    await using w = await world(disabled ? `<disable>mam</disable>` : "");
    const alice = await online(w, "alice@localhost/phone");
    await w.send(
      `<iq type="get" id="d1" to="alice@localhost"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`,
      alice,
    );
    await w.send(
      `<iq type="get" id="d2" to="localhost"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`,
      alice,
    );
    const [account, host] = w.take(alice).map((iq) =>
      iq.getChild("query")!.getChildren("feature").map((f) => f.attrs.var)
    );
    assert.equal(account.includes(MAM) && account.includes(`${MAM}#extended`), !disabled);
    assert.equal(host.includes(SID), !disabled);
    fromRemote(w, "alice@localhost", "hello");
    await w.settle();
    assert.equal(w.take(alice)[0].getChild("stanza-id", SID) !== undefined, !disabled);
    const answer = await query(w, alice);
    assert.equal(
      answer.error?.getChild("service-unavailable", NS_STANZAS_ERRORS) !== undefined,
      disabled,
    );
  }
});

Deno.test("issue 14 item 1: with max-unwritten reached, messages wait for the archive, then are delivered and archived once each, in order", async () => {
  await using w = await world(`<mam max-unwritten="1"/>`);
  const alice = await online(w, "alice@localhost/phone");
  const bob = await online(w, "bob@localhost/pc");
  // A burst: every message after the first finds the archive full and waits for its room.
  const bodies = Array.from({ length: 12 }, (_, i) => `m${i}`);
  await Promise.all(
    bodies.map((body) =>
      w.send(`<message type="chat" to="bob@localhost"><body>${body}</body></message>`, alice)
    ),
  );
  const delivered = w.take(bob);
  assert.deepEqual(delivered.map((m) => m.getChildText("body", CLIENT)), bodies);
  for (const message of delivered) {
    assert.equal(message.getChildren("stanza-id", SID).length, 1, "stamped once, not per firing");
  }
  const bobs = await query(w, bob);
  assert.deepEqual(bobs.bodies, bodies);
  assert.deepEqual(bobs.ids, delivered.map((m) => stanzaIds(m)["bob@localhost"]));
  assert.deepEqual((await query(w, alice)).bodies, bodies);
});

Deno.test("issue 14 item 2: with default never, the archive hooks do not look into a message", async () => {
  await using w = await world(`<mam default="never"/>`);
  const alice = await online(w, "alice@localhost/phone");
  const bob = await online(w, "bob@localhost/pc");
  const message = parse(`<message type="chat" to="bob@localhost"><body>hi</body></message>`);
  message.attrs.from = alice.jid.toString();
  let scans = 0;
  const getChild = message.getChild.bind(message);
  message.getChild = (...args: Parameters<typeof getChild>) => (scans++, getChild(...args));
  await w.send(message, alice);
  assert.equal(w.take(bob)[0]?.getChildText("body", CLIENT), "hi");
  assert.equal(scans, 0, "no archivable() (mam), eligible() (carbons) or push scan");
  assert.deepEqual((await query(w, bob)).bodies, []);
});

Deno.test("issue 14 item 1: with a write-delay, a query finds the messages archived just before it", async () => {
  // The test world's clock is manual: the delay's timer never fires, so the query must send.
  await using w = await world(`<mam write-delay="50ms"/>`);
  const alice = await online(w, "alice@localhost/phone");
  const bob = await online(w, "bob@localhost/pc");
  for (const body of ["a", "b"]) {
    await w.send(`<message type="chat" to="bob@localhost"><body>${body}</body></message>`, alice);
  }
  assert.equal(w.take(bob).length, 2);
  assert.deepEqual((await query(w, bob)).bodies, ["a", "b"]);
  assert.deepEqual((await query(w, alice)).bodies, ["a", "b"]);
});
