import assert from "node:assert/strict";
import { dialbackKey, makeSecret, sameKey } from "./dialback.ts";

Deno.test("dialbackKey() gives the key of XEP-0185's example", async () => {
  assert.equal(
    await dialbackKey("s3cr3tf0rd14lb4ck", "xmpp.example.com", "example.org", "D60000229F"),
    "37c69b1cf07a3f67c04a5ef5902fa5114f2c76fe4a2686482ba5b89323075643",
  );
});

Deno.test("dialbackKey() changes with every input, the order of the domains included", async () => {
  const base = await dialbackKey("secret", "b.test", "a.test", "id1");
  assert.notEqual(await dialbackKey("other", "b.test", "a.test", "id1"), base);
  assert.notEqual(await dialbackKey("secret", "a.test", "b.test", "id1"), base);
  assert.notEqual(await dialbackKey("secret", "b.test", "a.test", "id2"), base);
});

Deno.test("sameKey() compares keys exactly", () => {
  assert.equal(sameKey("abc", "abc"), true);
  assert.equal(sameKey("abc", "abd"), false);
  assert.equal(sameKey("abc", "abcd"), false);
});

Deno.test("makeSecret() makes 64 hex digits, different each time", () => {
  const one = makeSecret();
  assert.match(one, /^[0-9a-f]{64}$/);
  assert.notEqual(makeSecret(), one);
});
