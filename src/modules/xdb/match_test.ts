import assert from "node:assert/strict";
import { xdbMatch } from "../../server/xdb_client.ts";
import { matches, parseMatch } from "./match.ts";

Deno.test("parseMatch() reads a bare name", () => {
  assert.deepEqual(parseMatch("item"), { name: "item", attrs: [] });
});

Deno.test("parseMatch() reads attribute conditions and percent escapes", () => {
  assert.deepEqual(parseMatch("item?jid=bob@x&name=a%26b%3Dc"), {
    name: "item",
    attrs: [["jid", "bob@x"], ["name", "a&b=c"]],
  });
  assert.deepEqual(parseMatch("item?name="), { name: "item", attrs: [["name", ""]] });
});

Deno.test("parseMatch() refuses a missing name, a bare condition and a broken escape", () => {
  assert.throws(() => parseMatch(""), /needs an element name first/);
  assert.throws(() => parseMatch("?jid=a"), /needs an element name first/);
  assert.throws(() => parseMatch("item?jid"), /without attr=value/);
  assert.throws(() => parseMatch("item?=x"), /without attr=value/);
  assert.throws(() => parseMatch("item?jid=%zz"), /broken percent escape/);
});

Deno.test("matches() compares the local name and every condition", () => {
  const match = parseMatch("item?jid=bob@x&subscription=both");
  assert.equal(matches(match, "item", { jid: "bob@x", subscription: "both" }), true);
  assert.equal(matches(match, "roster:item", { jid: "bob@x", subscription: "both" }), true);
  assert.equal(matches(match, "item", { jid: "bob@x" }), false);
  assert.equal(matches(match, "other", { jid: "bob@x", subscription: "both" }), false);
  assert.equal(matches(parseMatch("*?id=1"), "message", { id: "1" }), true);
  assert.equal(matches(parseMatch("item?name="), "item", {}), false);
});

Deno.test("xdbMatch() writes a match that parseMatch() reads back", () => {
  const text = xdbMatch("item", { jid: "bob@x/a&b=c%d?" });
  assert.equal(text, "item?jid=bob@x/a%26b%3Dc%25d%3F");
  assert.deepEqual(parseMatch(text), { name: "item", attrs: [["jid", "bob@x/a&b=c%d?"]] });
  assert.equal(xdbMatch("item"), "item");
  // Every character the syntax gives a meaning survives a round trip, in names too.
  const odd = { "a=b": "x&y=z%?", key: "name urn:example" };
  assert.deepEqual(parseMatch(xdbMatch("it%em", odd)), {
    name: "it%em",
    attrs: [["a=b", "x&y=z%?"], ["key", "name urn:example"]],
  });
});
