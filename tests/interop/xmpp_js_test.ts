/**
 * Interop: the real `@xmpp/client` (xmpp.js 0.14, SCRAM-SHA-1) against our server over STARTTLS,
 * through the IM features of RFC 6120/6121 and the XEPs of issue 3. One server for the file;
 * every test registers its own users, so the tests do not depend on each other.
 */
import assert from "node:assert/strict";
import { type InteropServer, startServer } from "./harness.ts";
import { connect, JsClient, register, xml, type XmlElement } from "./xmpp_js.ts";

const NS_ROSTER = "jabber:iq:roster";
const NS_STANZAS = "urn:ietf:params:xml:ns:xmpp-stanzas";
const PASSWORD = "correct horse battery staple";

let shared: InteropServer | undefined;
const clients: JsClient[] = [];

async function server(): Promise<InteropServer> {
  return shared ??= await startServer();
}

/** Registers `name` in-band and returns it. */
async function account(name: string): Promise<string> {
  await register(await server(), name, PASSWORD);
  return name;
}

/** Logs `name` in with `resource` and sends initial presence (optionally with a priority). */
async function online(name: string, resource: string, priority?: number): Promise<JsClient> {
  const presence = priority === undefined
    ? xml("presence")
    : xml("presence", {}, xml("priority", {}, String(priority)));
  const c = await connect(await server(), {
    username: name,
    password: PASSWORD,
    resource,
    presence,
  });
  clients.push(c);
  return c;
}

/** Ends every client a test opened, whatever the test's outcome. */
async function done(): Promise<void> {
  for (const c of clients.splice(0)) await c.stop();
}

function jid(name: string): string {
  return `${name}@localhost`;
}

function bare(address: string | undefined): string {
  return (address ?? "").split("/")[0];
}

function rosterPush(c: JsClient, contact: string, check: (item: XmlElement) => boolean) {
  return c.waitFor(`a roster push for ${contact}`, (s) => {
    if (!s.is("iq") || s.attrs.type !== "set") return false;
    const item = s.getChild("query", NS_ROSTER)?.getChild("item");
    return item?.attrs.jid === contact && check(item);
  });
}

function presenceFrom(c: JsClient, from: string, type?: string) {
  return c.waitFor(
    `presence${type ? ` type=${type}` : ""} from ${from}`,
    (s) =>
      s.is("presence") &&
      (from.includes("/") ? s.attrs.from === from : bare(s.attrs.from) === from) &&
      s.attrs.type === type,
  );
}

function messageFrom(c: JsClient, from: string, body: string) {
  return c.waitFor(
    `a message "${body}" from ${from}`,
    (s) => s.is("message") && bare(s.attrs.from) === bare(from) && s.getChildText("body") === body,
  );
}

async function rosterItem(c: JsClient, contact: string): Promise<XmlElement | undefined> {
  const result = await c.request(xml("iq", { type: "get" }, xml("query", { xmlns: NS_ROSTER })));
  return result.getChild("query", NS_ROSTER)?.getChildren("item").find((item) =>
    item.attrs.jid === contact
  );
}

/** The subscription handshake (RFC 6121 §3.1) from `a` to `b`, `b` approving. */
async function subscribe(a: JsClient, b: JsClient): Promise<void> {
  await a.send(xml("presence", { to: b.bare, type: "subscribe" }));
  await presenceFrom(b, a.bare, "subscribe");
  await b.send(xml("presence", { to: a.bare, type: "subscribed" }));
  await presenceFrom(a, b.bare, "subscribed");
}

function errorCondition(stanza: XmlElement): string | undefined {
  return stanza.getChild("error")?.getChildElements().find((e) => e.attrs.xmlns === NS_STANZAS)
    ?.name;
}

/** An iq get of `<name xmlns=ns/>` to `to` ("" for the user's own account, no `to`). */
async function query(c: JsClient, to: string, ns: string, name = "query"): Promise<XmlElement> {
  const attrs = to === "" ? { type: "get" } : { type: "get", to };
  const result = await c.request(xml("iq", attrs, xml(name, { xmlns: ns })));
  const child = result.getChild(name, ns);
  assert.ok(child, `the ${ns} result has a <${name}/>: ${result}`);
  return child;
}

Deno.test("xmpp.js registration: an account is created in-band before SASL and a second is refused with conflict", async () => {
  try {
    const answer = await register(await server(), "reggie", PASSWORD);
    assert.equal(answer.attrs.type, "result");
    const again = connect(await server(), {
      username: "reggie",
      password: "another",
      register: true,
      presence: false,
    });
    await assert.rejects(again, (error: { condition?: string }) => {
      assert.equal(error.condition, "conflict");
      return true;
    });
  } finally {
    await done();
  }
});

Deno.test("xmpp.js login: SCRAM-SHA-1 over STARTTLS binds the chosen resource; a wrong password is refused", async () => {
  try {
    await account("lois");
    const c = await online("lois", "laptop");
    assert.equal(c.mechanism, "SCRAM-SHA-1");
    assert.equal(c.xmpp.isSecure(), true);
    assert.equal(c.jid, "lois@localhost/laptop");
    const generated = await connect(await server(), { username: "lois", password: PASSWORD });
    clients.push(generated);
    assert.match(generated.jid, /^lois@localhost\/.+/);
    assert.notEqual(generated.jid, c.jid);
    const wrong = connect(await server(), { username: "lois", password: "wrong" });
    await assert.rejects(wrong, (error: { condition?: string }) => {
      assert.equal(error.condition, "not-authorized");
      return true;
    });
  } finally {
    await done();
  }
});

Deno.test("xmpp.js roster: add and remove are pushed to every resource and the roster follows", async () => {
  try {
    await account("rosa");
    const r1 = await online("rosa", "one");
    const r2 = await online("rosa", "two");
    const contact = jid("ralph");
    await r1.request(
      xml(
        "iq",
        { type: "set" },
        xml(
          "query",
          { xmlns: NS_ROSTER },
          xml("item", { jid: contact, name: "Ralph" }, xml("group", {}, "Friends")),
        ),
      ),
    );
    for (const c of [r1, r2]) {
      const push = await rosterPush(c, contact, (item) => item.attrs.subscription === "none");
      assert.equal(push.getChild("query", NS_ROSTER)?.getChild("item")?.attrs.name, "Ralph");
    }
    const item = await rosterItem(r2, contact);
    assert.equal(item?.attrs.name, "Ralph");
    assert.equal(item?.getChildText("group"), "Friends");

    await r2.request(
      xml(
        "iq",
        { type: "set" },
        xml("query", { xmlns: NS_ROSTER }, xml("item", { jid: contact, subscription: "remove" })),
      ),
    );
    for (const c of [r1, r2]) {
      await rosterPush(c, contact, (i) => i.attrs.subscription === "remove");
    }
    assert.equal(await rosterItem(r1, contact), undefined);
  } finally {
    await done();
  }
});

Deno.test("xmpp.js subscription handshake both ways: subscribe, subscribed, and both rosters end in both", async () => {
  try {
    await account("sam");
    await account("sue");
    const sam = await online("sam", "desk");
    const sue = await online("sue", "phone");

    await sam.send(xml("presence", { to: sue.bare, type: "subscribe" }));
    await rosterPush(sam, sue.bare, (i) => i.attrs.ask === "subscribe");
    await presenceFrom(sue, sam.bare, "subscribe");
    await sue.send(xml("presence", { to: sam.bare, type: "subscribed" }));
    await presenceFrom(sam, sue.bare, "subscribed");
    await rosterPush(sam, sue.bare, (i) => i.attrs.subscription === "to");
    await rosterPush(sue, sam.bare, (i) => i.attrs.subscription === "from");
    // Once subscribed, the contact's current presence follows (RFC 6121 §3.1.6).
    await presenceFrom(sam, sue.jid);

    await sue.send(xml("presence", { to: sam.bare, type: "subscribe" }));
    await presenceFrom(sam, sue.bare, "subscribe");
    await sam.send(xml("presence", { to: sue.bare, type: "subscribed" }));
    await presenceFrom(sue, sam.bare, "subscribed");
    await presenceFrom(sue, sam.jid);

    assert.equal((await rosterItem(sam, sue.bare))?.attrs.subscription, "both");
    assert.equal((await rosterItem(sue, sam.bare))?.attrs.subscription, "both");
  } finally {
    await done();
  }
});

Deno.test("xmpp.js presence: initial presence is broadcast and probes answer, changes and logout follow", async () => {
  try {
    await account("pia");
    await account("pete");
    const pia = await online("pia", "home");
    const peteFirst = await online("pete", "first");
    await subscribe(pia, peteFirst);
    await subscribe(peteFirst, pia);
    await peteFirst.stop();
    pia.clear();

    const pete = await online("pete", "second");
    // Pia sees Pete's initial presence; Pete's probe brings Pia's presence to him.
    await presenceFrom(pia, pete.jid);
    await presenceFrom(pete, pia.jid);

    await pia.send(xml("presence", {}, xml("show", {}, "away"), xml("status", {}, "lunch")));
    const away = await presenceFrom(pete, pia.jid);
    assert.equal(away.getChildText("show"), "away");
    assert.equal(away.getChildText("status"), "lunch");

    await pia.stop();
    await presenceFrom(pete, pia.jid, "unavailable");
  } finally {
    await done();
  }
});

Deno.test("xmpp.js chat with several resources: bare JID to the highest priority, full JID to that resource", async () => {
  try {
    await account("chris");
    await account("carla");
    const high = await online("chris", "high", 5);
    const low = await online("chris", "low", 1);
    const carla = await online("carla", "web");

    await carla.send(xml("message", { to: high.bare, type: "chat" }, xml("body", {}, "to bare")));
    await messageFrom(high, carla.jid, "to bare");
    await carla.send(xml("message", { to: low.jid, type: "chat" }, xml("body", {}, "to low")));
    const got = await messageFrom(low, carla.jid, "to low");
    assert.equal(got.attrs.from, carla.jid);
    assert.equal(got.attrs.to, low.jid);

    await low.send(xml("message", { to: carla.jid, type: "chat" }, xml("body", {}, "reply")));
    const reply = await messageFrom(carla, low.jid, "reply");
    assert.equal(reply.attrs.from, low.jid);
  } finally {
    await done();
  }
});

Deno.test("xmpp.js offline messages: a message to an offline user is delivered after a server restart", async () => {
  try {
    await account("olga");
    await account("otto");
    const otto = await online("otto", "pc");
    await otto.send(xml("message", { to: jid("olga"), type: "chat" }, xml("body", {}, "kept")));
    // The ping's answer comes after the message was handled, stored or not.
    await otto.request(xml("iq", { type: "get", to: "localhost" }, xml("ping", "urn:xmpp:ping")));
    await done();

    await (await server()).restart();

    const olga = await online("olga", "tablet");
    const message = await messageFrom(olga, jid("otto"), "kept");
    const delay = message.getChild("delay", "urn:xmpp:delay");
    assert.ok(delay, `the offline message carries <delay/>: ${message}`);
    assert.ok(!Number.isNaN(Date.parse(delay.attrs.stamp ?? "")), `a stamp: ${delay}`);
  } finally {
    await done();
  }
});

Deno.test("xmpp.js vCard: a stored vCard comes back to its owner and to another user", async () => {
  try {
    await account("vera");
    await account("vic");
    const vera = await online("vera", "main");
    await vera.request(
      xml(
        "iq",
        { type: "set" },
        xml("vCard", { xmlns: "vcard-temp" }, xml("FN", {}, "Vera V."), xml("NICKNAME", {}, "vv")),
      ),
    );
    const own = await vera.request(xml("iq", { type: "get" }, xml("vCard", "vcard-temp")));
    assert.equal(own.getChild("vCard", "vcard-temp")?.getChildText("FN"), "Vera V.");
    const vic = await online("vic", "main");
    const other = await query(vic, vera.bare, "vcard-temp", "vCard");
    assert.equal(other.getChildText("NICKNAME"), "vv");
  } finally {
    await done();
  }
});

Deno.test("xmpp.js private XML: stored private data comes back by its namespace", async () => {
  try {
    await account("priv");
    const c = await online("priv", "main");
    await c.request(
      xml(
        "iq",
        { type: "set" },
        xml(
          "query",
          { xmlns: "jabber:iq:private" },
          xml("prefs", { xmlns: "interop:prefs" }, xml("theme", {}, "dark")),
        ),
      ),
    );
    const result = await c.request(
      xml(
        "iq",
        { type: "get" },
        xml("query", { xmlns: "jabber:iq:private" }, xml("prefs", { xmlns: "interop:prefs" })),
      ),
    );
    const prefs = result.getChild("query", "jabber:iq:private")?.getChild("prefs", "interop:prefs");
    assert.equal(prefs?.getChildText("theme"), "dark");
  } finally {
    await done();
  }
});

Deno.test("xmpp.js disco: the server is an im server listing its features, and has items", async () => {
  try {
    await account("disco");
    const c = await online("disco", "main");
    const info = await query(c, "localhost", "http://jabber.org/protocol/disco#info");
    const identities = info.getChildren("identity").map((i) =>
      `${i.attrs.category}/${i.attrs.type}`
    );
    assert.ok(identities.includes("server/im"), `identities: ${identities}`);
    const features = info.getChildren("feature").map((f) => f.attrs.var);
    for (
      const ns of [
        "http://jabber.org/protocol/disco#info",
        "jabber:iq:version",
        "urn:xmpp:time",
        "urn:xmpp:ping",
        "jabber:iq:last",
        "urn:xmpp:blocking",
        "urn:xmpp:carbons:2",
        "vcard-temp",
      ]
    ) assert.ok(features.includes(ns), `disco#info lists ${ns}: ${features}`);
    await query(c, "localhost", "http://jabber.org/protocol/disco#items");
  } finally {
    await done();
  }
});

Deno.test("xmpp.js version: the server answers jabber:iq:version with a name and version", async () => {
  try {
    await account("ver");
    const c = await online("ver", "main");
    const version = await query(c, "localhost", "jabber:iq:version");
    assert.ok(version.getChildText("name"), `a name: ${version}`);
    assert.ok(version.getChildText("version"), `a version: ${version}`);
  } finally {
    await done();
  }
});

Deno.test("xmpp.js time: the server answers urn:xmpp:time with a UTC time and an offset", async () => {
  try {
    await account("tim");
    const c = await online("tim", "main");
    const time = await query(c, "localhost", "urn:xmpp:time", "time");
    assert.match(time.getChildText("tzo") ?? "", /^(Z|[+-]\d\d:\d\d)$/);
    const utc = time.getChildText("utc") ?? "";
    assert.match(utc, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  } finally {
    await done();
  }
});

Deno.test("xmpp.js last activity: the server's uptime and a contact's last logout", async () => {
  try {
    await account("lara");
    await account("leon");
    const lara = await online("lara", "main");
    const uptime = await query(lara, "localhost", "jabber:iq:last");
    assert.match(uptime.attrs.seconds ?? "", /^\d+$/);

    const leon = await online("leon", "main");
    await subscribe(lara, leon);
    await subscribe(leon, lara);
    await leon.stop();
    await presenceFrom(lara, leon.jid, "unavailable");
    const last = await query(lara, leon.bare, "jabber:iq:last");
    assert.match(last.attrs.seconds ?? "", /^\d+$/);
  } finally {
    await done();
  }
});

Deno.test("xmpp.js ping: the server answers a ping, and a ping to a full JID reaches that client", async () => {
  try {
    await account("ping");
    await account("pong");
    const ping = await online("ping", "main");
    const pong = await online("pong", "main");
    const result = await ping.request(
      xml("iq", { type: "get", to: "localhost" }, xml("ping", "urn:xmpp:ping")),
    );
    assert.equal(result.attrs.type, "result");
    const reply = await ping.request(
      xml("iq", { type: "get", to: pong.jid }, xml("ping", "urn:xmpp:ping")),
    );
    assert.equal(reply.attrs.from, pong.jid);
  } finally {
    await done();
  }
});

Deno.test("xmpp.js blocking: a blocked contact's messages bounce, the list is pushed, unblock restores", async () => {
  try {
    await account("kate");
    await account("leo");
    const kate = await online("kate", "one");
    const kate2 = await online("kate", "two");
    const leo = await online("leo", "main");
    const NS_BLOCKING = "urn:xmpp:blocking";
    // Blocklist pushes go to the resources that asked for the list (XEP-0191 §3.3).
    for (const c of [kate, kate2]) await query(c, "", NS_BLOCKING, "blocklist");

    await kate.request(
      xml(
        "iq",
        { type: "set" },
        xml("block", { xmlns: NS_BLOCKING }, xml("item", { jid: leo.bare })),
      ),
    );
    await kate2.waitFor("a block push", (s) =>
      s.is("iq") && s.attrs.type === "set" &&
      s.getChild("block", NS_BLOCKING)?.getChild("item")?.attrs.jid === leo.bare);
    const list = await query(kate, "", NS_BLOCKING, "blocklist");
    assert.deepEqual(list.getChildren("item").map((i) => i.attrs.jid), [leo.bare]);

    await leo.send(
      xml("message", { to: kate.bare, type: "chat", id: "b1" }, xml("body", {}, "hi")),
    );
    const bounce = await leo.waitFor(
      "an error for the blocked message",
      (s) => s.is("message") && s.attrs.type === "error" && s.attrs.id === "b1",
    );
    assert.equal(errorCondition(bounce), "service-unavailable");

    await kate.send(xml("message", { to: leo.bare, type: "chat", id: "b2" }, xml("body", {}, "x")));
    const refused = await kate.waitFor(
      "an error for a message to a blocked contact",
      (s) => s.is("message") && s.attrs.type === "error" && s.attrs.id === "b2",
    );
    assert.equal(errorCondition(refused), "not-acceptable");
    assert.ok(refused.getChild("error")?.getChild("blocked", "urn:xmpp:blocking:errors"));

    await kate.request(
      xml(
        "iq",
        { type: "set" },
        xml("unblock", { xmlns: NS_BLOCKING }, xml("item", { jid: leo.bare })),
      ),
    );
    await leo.send(xml("message", { to: kate.jid, type: "chat" }, xml("body", {}, "again")));
    await messageFrom(kate, leo.jid, "again");
  } finally {
    await done();
  }
});

Deno.test("xmpp.js carbons: messages to and from one resource are copied to the other", async () => {
  try {
    await account("mia");
    await account("nick");
    const NS_CARBONS = "urn:xmpp:carbons:2";
    const NS_FORWARD = "urn:xmpp:forward:0";
    const mia1 = await online("mia", "one");
    const mia2 = await online("mia", "two");
    const nick = await online("nick", "main");
    for (const c of [mia1, mia2]) {
      await c.request(xml("iq", { type: "set" }, xml("enable", { xmlns: NS_CARBONS })));
    }

    await nick.send(xml("message", { to: mia1.jid, type: "chat" }, xml("body", {}, "in")));
    await messageFrom(mia1, nick.jid, "in");
    const received = await mia2.waitFor(
      "a received carbon",
      (s) => !!s.getChild("received", NS_CARBONS),
    );
    assert.equal(received.attrs.from, mia2.bare);
    const inner = received.getChild("received", NS_CARBONS)?.getChild("forwarded", NS_FORWARD)
      ?.getChild("message");
    assert.equal(inner?.getChildText("body"), "in");
    assert.equal(inner?.attrs.from, nick.jid);

    await mia1.send(xml("message", { to: nick.jid, type: "chat" }, xml("body", {}, "out")));
    const sent = await mia2.waitFor("a sent carbon", (s) => !!s.getChild("sent", NS_CARBONS));
    const copy = sent.getChild("sent", NS_CARBONS)?.getChild("forwarded", NS_FORWARD)
      ?.getChild("message");
    assert.equal(copy?.getChildText("body"), "out");
    assert.equal(copy?.attrs.to, nick.jid);
    await messageFrom(nick, mia1.jid, "out");
  } finally {
    await done();
  }
});

Deno.test("xmpp.js interop server stops cleanly", async () => {
  await done();
  await shared?.stop();
  shared = undefined;
});
