import assert from "node:assert/strict";
import { Element, escapeAttr, escapeText, startTag, xml } from "./element.ts";
import { parseFragment } from "./stream_parser.ts";

const SPECIAL = `& < > " ' ]]> \t\n\r end`;

Deno.test("Element.toString() escapes text and attributes so they parse back unchanged", () => {
  const el = xml("message", { to: SPECIAL, "xml:lang": "en" }, xml("body", {}, SPECIAL));
  const text = el.toString();
  assert.doesNotMatch(startTag(el), /[\t\n\r]/);
  assert.doesNotMatch(text, /\r/);
  const back = parseFragment(text);
  assert.equal(back.attr("to"), SPECIAL);
  assert.equal(back.getChildText("body"), SPECIAL);
  assert.equal(back.toString(), text);
});

Deno.test("escapeText() and escapeAttr() replace only what they must", () => {
  assert.equal(escapeText(`a & b < c > d "q" 'a'`), `a &amp; b &lt; c &gt; d "q" 'a'`);
  assert.equal(
    escapeAttr(`a & b < c > d "q" 'a'`),
    "a &amp; b &lt; c &gt; d &quot;q&quot; &apos;a&apos;",
  );
  assert.equal(escapeText("plain"), "plain");
  assert.equal(escapeAttr("x\ny"), "x&#10;y");
});

Deno.test("Element builder c()/t()/up() makes the expected tree", () => {
  const iq = new Element("iq", { type: "result", id: "1" })
    .c("query", { xmlns: "jabber:iq:roster" })
    .c("item", { jid: "a@b" }).c("group").t("Friends").up().up()
    .c("item", { jid: "c@d" }).up()
    .up().up();
  assert.equal(
    iq.toString(),
    "<iq type='result' id='1'><query xmlns='jabber:iq:roster'><item jid='a@b'><group>Friends" +
      "</group></item><item jid='c@d'/></query></iq>",
  );
  assert.equal(startTag(iq), "<iq type='result' id='1'>");
});

Deno.test("Element.getChild() matches the namespace when one is given", () => {
  const message = parseFragment(
    "<message xmlns='jabber:client'><x xmlns='jabber:x:data'/><x xmlns='jabber:x:oob'>u</x>" +
      "<body>hi</body></message>",
  );
  assert.equal(message.getChild("x", "jabber:x:oob")?.text(), "u");
  assert.equal(message.getChild("x")?.ns, "jabber:x:data");
  assert.equal(message.getChild("body", "jabber:client")?.text(), "hi");
  assert.equal(message.getChild("body", "jabber:x:data"), undefined);
  assert.equal(message.getChildren("x").length, 2);
  assert.equal(message.getChildByNs("jabber:x:oob")?.text(), "u");
  const built = xml("iq", { xmlns: "jabber:client" }, xml("query", { xmlns: "jabber:iq:version" }));
  assert.equal(built.getChild("query", "jabber:iq:version")?.ns, "jabber:iq:version");
  assert.equal(
    xml("iq", { xmlns: "jabber:client" }, xml("bind")).getChild("bind")?.ns,
    "jabber:client",
  );
});

Deno.test("Element.clone() keeps the resolved namespace of a detached stanza", () => {
  let stanza: Element | undefined;
  const root = parseFragment(
    "<stream xmlns='jabber:client'><message><body>x</body></message></stream>",
  );
  stanza = root.getChild("message")!;
  stanza.parent = undefined;
  assert.equal(stanza.ns, "jabber:client");
  const copy = stanza.clone();
  assert.equal(copy.ns, "jabber:client");
  assert.equal(copy.getChild("body")?.ns, "jabber:client");
  assert.equal(copy.parent, undefined);
  copy.getChild("body")!.children = ["changed"];
  assert.equal(stanza.getChildText("body"), "x");
  stanza = undefined;
});

Deno.test("Element.remove() and setAttr() change the tree", () => {
  const el = xml("a", { x: "1" }, xml("b"), xml("c"), "t");
  el.remove("b").setAttr("x", undefined).setAttr("y", "2");
  assert.equal(el.toString(), "<a y='2'><c/>t</a>");
});

Deno.test("Element.firstElement() skips text and returns the first child element, or undefined", () => {
  const route = xml("route", {}, "  ", xml("message", { id: "1" }), xml("presence"));
  assert.equal(route.firstElement()?.attrs.id, "1");
  assert.equal(xml("route", {}, "only text").firstElement(), undefined);
  assert.equal(xml("route").firstElement(), undefined);
});
