/** Tests of the link wire format: every packet kind survives a trip over a stream, hops too. */
import assert from "node:assert/strict";
import { Packet } from "../tree/packet.ts";
import { NS_CLIENT, NS_COMPONENT_ACCEPT } from "../util/ns.ts";
import { parseFragment } from "../xml/stream_parser.ts";
import { xml } from "../xml/element.ts";
import { decodePacket, encodePacket, HOPS_ATTR, NS_LINK, NS_NODE_LINK } from "./wire.ts";

/** Writes a packet inside a link stream and reads it back as the other side would. */
function trip(packet: Packet, node: boolean, streamNs = NS_NODE_LINK): Packet {
  const text = encodePacket(packet, node);
  // The stream header's declarations, as `linkHeaderAttrs` and StreamLink.open() write them.
  const wrapped = `<wrap xmlns='${streamNs}' xmlns:jabberd='${NS_LINK}'>${text}</wrap>`;
  const element = parseFragment(wrapped).elements[0];
  element.parent = undefined;
  return decodePacket(element, node);
}

Deno.test("encodePacket() and decodePacket() carry xdb, log, route and stanzas with hop counts on node links", () => {
  const xdb = xml("xdb", {
    type: "get",
    to: "a@example.org",
    from: "c2s",
    ns: "jabber:iq:auth",
    id: "7",
  });
  const log = xml("log", { type: "warn", from: "example.org" }, "disk < full & more");
  const inner = xml("message", { to: "b@example.org", from: "a@example.org/r", xmlns: NS_CLIENT });
  inner.c("body").t("hi");
  const route = xml("route", { to: "b@example.org/r", from: "c2s/3" }, inner);
  for (const [element, kind] of [[xdb, "xdb"], [log, "log"], [route, "route"]] as const) {
    const back = trip(new Packet(element, { hops: 4 }), true);
    assert.equal(back.kind, kind);
    assert.equal(back.hops, 5, "one hop more for crossing the link");
    assert.equal(back.element.attrs[HOPS_ATTR], undefined);
    assert.deepEqual(back.element.attrs, element.attrs);
  }
  const back = trip(new Packet(route), true);
  const message = back.element.getChild("message")!;
  assert.equal(message.getChildText("body"), "hi");
  assert.equal(message.ns, NS_CLIENT, "a stanza inside a route keeps its namespace");
  const alone = trip(new Packet(inner), true);
  assert.equal(alone.element.attrs.xmlns, undefined, "a top stanza takes the stream's namespace");
  assert.equal(alone.element.ns, NS_NODE_LINK);
  assert.equal(trip(new Packet(log), true).element.text(), "disk < full & more");
  // The packet handed to encodePacket() is never changed.
  assert.equal(route.attrs[HOPS_ATTR], undefined);
  assert.equal(inner.attrs.xmlns, NS_CLIENT);
});

Deno.test("encodePacket() leaves hops off component links and decodePacket() ignores forged ones", () => {
  const message = xml("message", { to: "a@example.org", from: "bot.example.org" });
  const text = encodePacket(new Packet(message, { hops: 3 }), false);
  assert.doesNotMatch(text, /hops/);
  const forged = parseFragment(
    `<message xmlns='${NS_COMPONENT_ACCEPT}' xmlns:jabberd='${NS_LINK}' jabberd:hops='99' to='x'/>`,
  );
  const packet = decodePacket(forged, false);
  assert.equal(packet.hops, 0);
  assert.equal(packet.element.attrs[HOPS_ATTR], undefined);
});

Deno.test("encodePacket() binds a prefix the packet's old stream declared and keeps foreign namespaces", () => {
  const dialback = parseFragment(
    "<stream:stream xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback'>" +
      "<db:result to='a.example' from='b.example'>key</db:result></stream:stream>",
  );
  // parseFragment returns the root: take the stanza as a stream parser would hand it over.
  const stanza = dialback.elements[0];
  stanza.parent = undefined;
  stanza.ns = "jabber:server:dialback";
  const back = trip(new Packet(stanza), true);
  assert.equal(back.element.ns, "jabber:server:dialback");
  assert.equal(back.element.text(), "key");
});
