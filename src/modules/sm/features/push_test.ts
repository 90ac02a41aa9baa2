import assert from "node:assert/strict";
import {
  NS_CLIENT,
  NS_DATA_FORMS,
  NS_PUBSUB,
  NS_PUSH,
  NS_PUSH_SUMMARY,
  NS_STANZAS_ERRORS,
} from "../../../util/ns.ts";
import type { Element } from "../../../xml/element.ts";
import { smWorld } from "../_testing.ts";
import { allFeatures, coreFeatures } from "../mod.ts";
import type { Session, SmFeature } from "../types.ts";
import { csi } from "./csi.ts";
import { disco } from "./disco.ts";
import { MAX_ERRORS, push, PUSH_ID } from "./push.ts";
import { presence, roster, subscription } from "./roster/mod.ts";

const APP = "push.example";
const ENABLE = `<iq type="set" id="e1"><enable xmlns="${NS_PUSH}" jid="${APP}" node="n1">` +
  `<x xmlns="${NS_DATA_FORMS}" type="submit">` +
  `<field var="FORM_TYPE"><value>http://jabber.org/protocol/pubsub#publish-options</value></field>` +
  `<field var="secret"><value>s3cr3t</value></field></x></enable></iq>`;
const MESSAGE = (id: string, body = "hello") =>
  `<message type="chat" id="${id}" from="eve@remote.example/x" to="alice@localhost">` +
  `<body>${body}</body></message>`;

async function pushWorld(
  config = "",
  features: readonly SmFeature[] = [
    ...coreFeatures,
    roster,
    subscription,
    presence,
    csi,
    disco,
    push,
  ],
) {
  const world = await smWorld({ config, features });
  await world.addUser("alice@localhost");
  /** Alice's phone, online with presence, push enabled from it. */
  const phone = world.bind("alice@localhost/phone");
  await world.send(`<presence/>`, phone);
  world.take(phone);
  await world.send(ENABLE, phone);
  const [enabled] = world.take(phone);
  assert.equal(enabled?.attrs.type, "result", "enable answered");
  /** The push iqs the app server got since the last call. */
  let seen = 0;
  const pushes = () => {
    const all = world.remote.filter((s) => s.attrs.to === APP && s.attrs.id === PUSH_ID);
    const fresh = all.slice(seen);
    seen = all.length;
    return fresh;
  };
  /** The app server answers the oldest push it did not answer yet. */
  const answer = (type: "result" | "error") =>
    world.send(
      `<iq type="${type}" id="${PUSH_ID}" from="${APP}" to="alice@localhost">` +
        (type === "error"
          ? `<error type="cancel"><item-not-found xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/></error>`
          : "") +
        `</iq>`,
    );
  return Object.assign(world, { phone, pushes, answer });
}

/** The summary form's fields of a push iq, by var. */
function summaryOf(iq: Element): Record<string, string> {
  const publish = iq.getChild("pubsub", NS_PUBSUB)!.getChild("publish")!;
  assert.equal(publish.attrs.node, "n1");
  const form = publish.getChild("item")!.getChild("notification", NS_PUSH)!.getChild("x")!;
  const fields: Record<string, string> = {};
  for (const field of form.getChildren("field")) {
    fields[field.attrs.var] = field.getChildText("value") ?? "";
  }
  return fields;
}

/** The publish-options fields a push iq carries. */
function secretOf(iq: Element): string | undefined {
  const options = iq.getChild("pubsub", NS_PUBSUB)!.getChild("publish-options")?.getChild("x");
  return options?.getChildren("field").find((f) => f.attrs.var === "secret")?.getChildText("value");
}

Deno.test("push publishes a summary to the app server's node for each message stored offline", async () => {
  const world = await pushWorld();
  try {
    world.unbind(world.phone);
    await world.settle();
    await world.send(MESSAGE("m1"));
    await world.send(MESSAGE("m2"));
    const [first, second, ...more] = world.pushes();
    assert.equal(more.length, 0);
    assert.equal(first.attrs.type, "set");
    assert.equal(first.attrs.from, "alice@localhost", "from the account (§7)");
    assert.deepEqual(summaryOf(first), {
      FORM_TYPE: NS_PUSH_SUMMARY,
      "message-count": "1",
      "last-message-sender": "eve@remote.example/x",
    });
    assert.equal(summaryOf(second)["message-count"], "2");
    assert.equal(secretOf(first), "s3cr3t", "the publish-options form of <enable>");
    // The device comes back: the count starts again.
    const phone = world.bind("alice@localhost/phone");
    world.unbind(phone);
    await world.settle();
    await world.send(MESSAGE("m3"));
    assert.equal(summaryOf(world.pushes()[0])["message-count"], "1");
  } finally {
    await world.stop();
  }
});

Deno.test('push carries the body only with <push body="true"/>', async () => {
  const world = await pushWorld(`<push body="true"/>`);
  try {
    world.unbind(world.phone);
    await world.settle();
    await world.send(MESSAGE("m1", "wherefore"));
    assert.equal(summaryOf(world.pushes()[0])["last-message-body"], "wherefore");
  } finally {
    await world.stop();
  }
});

Deno.test("push publishes for a message to an inactive session, not to an active one", async () => {
  const world = await pushWorld();
  try {
    const { phone } = world;
    await world.send(MESSAGE("active"));
    assert.equal(world.pushes().length, 0, "an active session sees the message itself");
    assert.deepEqual(world.take(phone).map((s) => s.attrs.id), ["active"]);
    await world.send(`<inactive xmlns="urn:xmpp:csi:0"/>`, phone);
    await world.send(MESSAGE("asleep"));
    await world.send(
      `<message type="chat" id="state" from="eve@remote.example/x" to="alice@localhost/phone">` +
        `<composing xmlns="http://jabber.org/protocol/chatstates"/></message>`,
    );
    const pushed = world.pushes();
    assert.equal(pushed.length, 1, "a chat state wakes nobody");
    assert.equal(summaryOf(pushed[0])["message-count"], "1");
    assert.deepEqual(world.take(phone).map((s) => s.attrs.id), ["asleep"], "delivered as well");
    await world.send(`<active xmlns="urn:xmpp:csi:0"/>`, phone);
    await world.send(`<inactive xmlns="urn:xmpp:csi:0"/>`, phone);
    await world.send(MESSAGE("again"));
    assert.equal(summaryOf(world.pushes()[0])["message-count"], "1", "active reset the count");
  } finally {
    await world.stop();
  }
});

Deno.test("push only pushes for the inactive session's own registrations", async () => {
  const world = await pushWorld();
  try {
    const laptop: Session = world.bind("alice@localhost/laptop");
    await world.send(`<presence/>`, laptop);
    await world.send(`<inactive xmlns="urn:xmpp:csi:0"/>`, laptop);
    await world.send(MESSAGE("m1"));
    assert.equal(world.pushes().length, 0, "the phone registered, and the phone is active");
  } finally {
    await world.stop();
  }
});

Deno.test(`push disables a registration after ${MAX_ERRORS} errors in a row from the app server`, async () => {
  const world = await pushWorld();
  try {
    world.unbind(world.phone);
    await world.settle();
    for (let i = 0; i < MAX_ERRORS - 1; i++) {
      await world.send(MESSAGE(`e${i}`));
      await world.answer("error");
    }
    await world.send(MESSAGE("ok"));
    await world.answer("result");
    for (let i = 0; i < MAX_ERRORS; i++) {
      await world.send(MESSAGE(`f${i}`));
      await world.answer("error");
    }
    assert.equal(world.pushes().length, 2 * MAX_ERRORS, "a result in between reset the errors");
    await world.send(MESSAGE("gone"));
    assert.equal(world.pushes().length, 0, "disabled");
    assert.equal(
      await world.api.xdb.get("alice@localhost", NS_PUSH).then((e) => e?.elements.length ?? 0),
      0,
    );
  } finally {
    await world.stop();
  }
});

Deno.test("push <disable> removes one node, or every node of the app server without node", async () => {
  const world = await pushWorld();
  try {
    const { phone } = world;
    await world.send(ENABLE.replace(`node="n1"`, `node="n2"`), phone);
    await world.send(
      `<iq type="set" id="d1"><disable xmlns="${NS_PUSH}" jid="${APP}" node="n1"/></iq>`,
      phone,
    );
    const nodes = async () =>
      (await world.api.xdb.get("alice@localhost", NS_PUSH))?.getChildren("registration").map((r) =>
        r.attrs.node
      ) ?? [];
    assert.deepEqual(await nodes(), ["n2"]);
    await world.send(
      `<iq type="set" id="d2"><disable xmlns="${NS_PUSH}" jid="${APP}"/></iq>`,
      phone,
    );
    assert.deepEqual(await nodes(), []);
    assert.deepEqual(world.take(phone).map((s) => `${s.attrs.id} ${s.attrs.type}`), [
      "e1 result",
      "d1 result",
      "d2 result",
    ]);
  } finally {
    await world.stop();
  }
});

Deno.test("push refuses an <enable> without node or with a form of another FORM_TYPE", async () => {
  const world = await pushWorld();
  try {
    const { phone } = world;
    await world.send(
      `<iq type="set" id="b1"><enable xmlns="${NS_PUSH}" jid="${APP}"/></iq>`,
      phone,
    );
    await world.send(ENABLE.replace("e1", "b2").replace("pubsub#publish-options", "x"), phone);
    const answers = world.take(phone);
    assert.deepEqual(answers.map((s) => s.attrs.type), ["error", "error"]);
    assert.ok(
      answers.every((s) =>
        s.getChild("error", NS_CLIENT)?.getChild("bad-request", NS_STANZAS_ERRORS)
      ),
    );
  } finally {
    await world.stop();
  }
});

Deno.test("push is advertised in the account's disco#info", async () => {
  const world = await pushWorld();
  try {
    const info = "http://jabber.org/protocol/disco#info";
    await world.send(`<iq type="get" id="i1"><query xmlns="${info}"/></iq>`, world.phone);
    const [answer] = world.take(world.phone);
    const vars = answer.getChild("query", info)!.getChildren("feature").map((f) => f.attrs.var);
    assert.ok(vars.includes(NS_PUSH));
  } finally {
    await world.stop();
  }
});

Deno.test("push works among every feature of the server (archive, carbons, blocking run first)", async () => {
  const world = await pushWorld("", allFeatures());
  try {
    const { phone } = world;
    await world.send(`<inactive xmlns="urn:xmpp:csi:0"/>`, phone);
    await world.send(MESSAGE("asleep"));
    assert.equal(summaryOf(world.pushes()[0])["message-count"], "1");
    world.unbind(phone);
    await world.settle();
    await world.send(MESSAGE("offline"));
    assert.equal(world.pushes().length, 1);
  } finally {
    await world.stop();
  }
});
