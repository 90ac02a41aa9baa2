import assert from "node:assert/strict";
import { parseDocument } from "../xml/document.ts";
import { stripStanzaIds } from "./archive.ts";

const parse = (text: string) => parseDocument(text, "test").root;

Deno.test("stripStanzaIds() removes only the stanza-ids that claim the given by", () => {
  const message = parse(
    `<message><body>x</body><stanza-id xmlns="urn:xmpp:sid:0" by="a@b" id="1"/>` +
      `<stanza-id xmlns="urn:xmpp:sid:0" by="room@muc" id="2"/><stanza-id by="a@b" id="3"/></message>`,
  );
  stripStanzaIds(message, "a@b");
  assert.deepEqual(message.elements.map((e) => e.attrs.id), [undefined, "2", "3"]);
});
