import assert from "node:assert/strict";
import { xml } from "../../xml/element.ts";
import { CHUNK_UNITS, decodeNode, encodeNode, headOf, splitChunks, storedSize } from "./codec.ts";

Deno.test("encodeNode() and decodeNode() round-trip elements and text", () => {
  const message = xml("message", { to: "a@x", "xml:lang": "en" }, xml("body", {}, "hi <&>"), "t");
  assert.equal(decodeNode(encodeNode(message)).toString(), message.toString());
  assert.equal(decodeNode(encodeNode("just text")), "just text");
});

Deno.test("headOf() gives the name and attributes, or undefined for text", () => {
  assert.deepEqual(headOf(encodeNode(xml("item", { jid: "a@x" }))), {
    name: "item",
    attrs: { jid: "a@x" },
  });
  assert.equal(headOf(encodeNode("text")), undefined);
});

Deno.test("splitChunks() cuts long text so that every chunk fits a 64 KiB value", () => {
  const text = "\u4e2d".repeat(CHUNK_UNITS * 2 + 5);
  const chunks = splitChunks(text);
  assert.equal(chunks.length, 3);
  assert.equal(chunks.join(""), text);
  for (const chunk of chunks) assert.ok(storedSize(chunk) <= 65_536);
  assert.deepEqual(splitChunks("short"), ["short"]);
});
