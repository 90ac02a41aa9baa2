import assert from "node:assert/strict";
import { parseDocument } from "./document.ts";
import { XmlError } from "./xml_error.ts";

const CONFIG = `<?xml version="1.0"?>
<!-- a comment is fine in a config file -->
<jabberd>
  <service id="c2s">
    <host>example.com</host><c2s xmlns="jabberd:config:c2s" port="5222"/>
  </service>
  <log
      id="err"><format>%d &amp; %s</format></log>
</jabberd>
`;

Deno.test("parseDocument() builds the tree with namespaces and drops whitespace-only text", () => {
  const { root } = parseDocument(CONFIG, "jabberd.xml");
  assert.equal(root.name, "jabberd");
  const service = root.getChild("service")!;
  assert.equal(service.attr("id"), "c2s");
  assert.equal(service.getChildText("host"), "example.com");
  assert.equal(service.getChild("c2s", "jabberd:config:c2s")?.attr("port"), "5222");
  assert.equal(root.getChild("log")?.getChildText("format"), "%d & %s");
  assert.deepEqual(root.children.filter((child) => typeof child === "string"), []);
});

Deno.test("parseDocument() records where each start tag begins", () => {
  const { root, positions } = parseDocument(CONFIG, "jabberd.xml");
  const service = root.getChild("service")!;
  assert.deepEqual(positions.get(root), { line: 3, column: 1 });
  assert.deepEqual(positions.get(service), { line: 4, column: 3 });
  assert.deepEqual(positions.get(service.getChild("host")!), { line: 5, column: 5 });
  assert.deepEqual(positions.get(service.getChild("c2s")!), { line: 5, column: 29 });
  assert.deepEqual(positions.get(root.getChild("log")!), { line: 7, column: 3 });
});

Deno.test("parseDocument() reports errors as XmlError with file:line:column", async (t) => {
  const cases: [string, string, RegExp][] = [
    ["mismatched tags", "<a>\n  <b></c>\n</a>", /^bad\.xml:2:\d+: Unexpected close tag$/],
    ["duplicate attributes", "<a>\n <b x='1' x='2'/></a>", /^bad\.xml:2:\d+: Duplicate attribute/],
    ["unknown entity", "<a>&foo;</a>", /^bad\.xml:1:\d+: Undefined entity/],
    ["unbound prefix", "<a><p:b/></a>", /^bad\.xml:1:\d+: Unbound namespace prefix/],
    ["no root", "", /^bad\.xml:1:1: /],
    ["a DTD", "<!DOCTYPE a>\n<a/>", /^bad\.xml:1:\d+: Document type declarations are not allowed/],
  ];
  for (const [name, text, message] of cases) {
    await t.step(name, () => {
      assert.throws(() => parseDocument(text, "bad.xml"), (error: unknown) => {
        assert.ok(error instanceof XmlError);
        assert.equal(error.position?.file, "bad.xml");
        assert.match(error.message, message);
        assert.doesNotMatch(error.message, /\.$/);
        return true;
      });
    });
  }
});
