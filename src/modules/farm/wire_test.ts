import assert from "node:assert/strict";
import { Packet } from "../../tree/packet.ts";
import { xml } from "../../xml/element.ts";
import { encodeFarmPacket, FarmPacketReader, farmPacketText } from "./wire.ts";

const encoder = new TextEncoder();

Deno.test("R43 a packet crosses to another node in the node-link format, one hop further", () => {
  const reader = new FarmPacketReader();
  const route = xml(
    "route",
    { to: "c2s-n2/7", from: "bob@localhost/phone" },
    xml(
      "message",
      { to: "bob@localhost/phone", from: "alice@localhost/desk" },
      xml("body", {}, "a < b & c"),
    ),
  );
  const read = reader.read(encodeFarmPacket(new Packet(route, { hops: 3 })));
  assert.equal(read.kind, "route");
  assert.equal(read.hops, 4);
  assert.equal(read.element.attrs["jabberd:hops"], undefined);
  assert.equal(read.element.getChild("message")?.getChildText("body"), "a < b & c");
  const xdb = reader.read(
    encodeFarmPacket(xml("xdb", { type: "get", to: "a@b", from: "sm", ns: "x", id: "1" })),
  );
  assert.equal(xdb.kind, "xdb");
  assert.equal(xdb.hops, 1);
});

Deno.test("R43 a malformed farm message is refused without spoiling the next one", () => {
  const reader = new FarmPacketReader();
  assert.throws(() => reader.read(encoder.encode("<message><body>")));
  assert.throws(() => reader.read(encoder.encode("<a></b>")));
  const ok = reader.read(encodeFarmPacket(xml("message", { to: "x@y" }, xml("body", {}, "fine"))));
  assert.equal(ok.element.getChildText("body"), "fine");
});

Deno.test(
  "R43 a farm message holding several packets gives them in order; a malformed one gives those before the fault",
  () => {
    const reader = new FarmPacketReader();
    const batch = (texts: string[]) => encoder.encode(texts.join(""));
    const a = farmPacketText(new Packet(xml("message", { to: "a@x", id: "1" }), { hops: 0 }));
    const b = farmPacketText(xml("presence", { to: "b@x", id: "2" }));
    const c = farmPacketText(xml("iq", { to: "c@x", id: "3", type: "get" }));
    const read = reader.readAll(batch([a, b, c]));
    assert.equal(read.error, undefined);
    assert.deepEqual(read.packets.map((p) => [p.element.name, p.element.attrs.id, p.hops]), [
      ["message", "1", 1],
      ["presence", "2", 1],
      ["iq", "3", 1],
    ]);
    const broken = reader.readAll(batch([a, "<message><body>"]));
    assert.deepEqual(broken.packets.map((p) => p.element.attrs.id), ["1"]);
    assert.match(String(broken.error), /ended inside a packet/);
    const bad = reader.readAll(batch([b, "<a></b>", c]));
    assert.deepEqual(bad.packets.map((p) => p.element.attrs.id), ["2"]);
    assert.ok(bad.error);
    assert.throws(() => reader.read(batch([a, b])), /2 packets, not one/);
    assert.equal(reader.readAll(batch([c])).packets[0].element.attrs.id, "3");
  },
);
