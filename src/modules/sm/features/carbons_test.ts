import assert from "node:assert/strict";
import type { Element } from "../../../xml/element.ts";
import { carbons, eligible } from "./carbons.ts";
import { parse, smWorld } from "../_testing.ts";

const C = "urn:xmpp:carbons:2";
const FORWARD = "urn:xmpp:forward:0";
const CLIENT = "jabber:client";

Deno.test("carbons copies received and sent chat messages to enabled resources only", async () => {
  const world = await smWorld({ features: [carbons] });
  try {
    const phone = world.bind("alice@localhost/phone");
    const pc = world.bind("alice@localhost/pc");
    const tab = world.bind("alice@localhost/tab");
    for (const s of [phone, pc]) {
      await world.send(`<iq type="set" id="e"><enable xmlns="${C}"/></iq>`, s);
    }
    for (const s of [phone, pc]) assert.equal(world.take(s)[0].attrs.type, "result");
    await world.send(
      `<message type="chat" from="bob@example.org/x" to="alice@localhost/phone"><body>hi</body></message>`,
    );
    assert.equal(world.take(phone).length, 1, "the original");
    const [received] = world.take(pc);
    assert.equal(received.attrs.from, "alice@localhost");
    const inner = received.getChild("received", C)!.getChild("forwarded", FORWARD)!;
    assert.equal(inner.getChild("message", CLIENT)!.getChildText("body", CLIENT), "hi");
    assert.equal(world.take(tab).length, 0, "tab did not enable carbons");
    await world.send(`<message type="chat" to="bob@example.org"><body>yo</body></message>`, pc);
    const [sent] = world.take(phone);
    const message = sent.getChild("sent", C)!.getChild("forwarded", FORWARD)!
      .getChild("message", CLIENT)!;
    assert.equal(message.attrs.from, "alice@localhost/pc");
    assert.equal(world.take(pc).length, 0, "no copy to the sender");
    await world.send(`<iq type="set" id="d"><disable xmlns="${C}"/></iq>`, pc);
    world.take(pc);
    await world.send(`<message type="chat" to="bob@example.org"><body>2</body></message>`, phone);
    assert.equal(world.take(pc).length, 0);
  } finally {
    await world.stop();
  }
});

Deno.test("carbons forwards a jabber:client <message>, never one in the forward namespace (XEP-0297 §3)", async () => {
  const world = await smWorld({ features: [carbons] });
  try {
    const phone = world.bind("alice@localhost/phone");
    const pc = world.bind("alice@localhost/pc");
    await world.send(`<iq type="set" id="e"><enable xmlns="${C}"/></iq>`, pc);
    world.take(pc);
    await world.send(
      `<message type="chat" from="bob@example.org/x" to="alice@localhost/phone"><body>in</body></message>`,
    );
    await world.send(`<message type="chat" to="bob@example.org"><body>out</body></message>`, phone);
    const [received, sent] = world.take(pc);
    // As the client parsed them: the inner stanza must declare jabber:client itself.
    const inner = (carbon: Element, direction: string) =>
      carbon.getChild(direction, C)!.getChild("forwarded", FORWARD)!.elements[0];
    assert.equal(inner(received, "received").ns, CLIENT);
    assert.equal(inner(received, "received").getChildText("body", CLIENT), "in");
    assert.equal(inner(sent, "sent").ns, CLIENT);
    assert.equal(inner(sent, "sent").getChildText("body", CLIENT), "out");
  } finally {
    await world.stop();
  }
});

Deno.test("eligible() follows XEP-0280 §6", () => {
  assert.equal(eligible(parse(`<message type="chat"/>`)), true);
  assert.equal(eligible(parse(`<message><body>x</body></message>`)), true);
  assert.equal(eligible(parse(`<message/>`)), false);
  assert.equal(eligible(parse(`<message type="groupchat"><body>x</body></message>`)), false);
  assert.equal(eligible(parse(`<message type="headline"><body>x</body></message>`)), false);
  assert.equal(eligible(parse(`<message type="chat"><private xmlns="${C}"/></message>`)), false);
  assert.equal(
    eligible(parse(`<message type="chat"><no-copy xmlns="urn:xmpp:hints"/></message>`)),
    false,
  );
  assert.equal(
    eligible(parse(`<message><active xmlns="http://jabber.org/protocol/chatstates"/></message>`)),
    true,
  );
});
