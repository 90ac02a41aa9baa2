import assert from "node:assert/strict";
import { bareKey, escapeKey, FarmNames, fullKey, fullOfKey, unescapeKey } from "./keys.ts";

const NATS_KEY = /^[-/_=A-Za-z0-9]+(\.[-/_=A-Za-z0-9]+)*$/;

Deno.test("R40 escapeKey() turns any JID part into NATS key characters and back", () => {
  for (
    const text of [
      "alice@example.org",
      "jürgen@例え.jp",
      "a.b/c d",
      "=40",
      "",
      "x\u{1F600}y",
      "_-Az09",
    ]
  ) {
    const token = escapeKey(text);
    assert.match(token, /^[_=A-Za-z0-9-]+$/, text);
    assert.equal(unescapeKey(token), text);
  }
  assert.equal(escapeKey("alice@example.org"), "alice=40example=2Eorg");
  assert.throws(() => unescapeKey("a=4"), /not an escaped key/);
});

Deno.test("R40 a full JID's key is its bare JID's key, a dot, and its resource", () => {
  const key = fullKey("alice@example.org/phone.1");
  assert.match(key, NATS_KEY);
  assert.ok(key.startsWith(bareKey("alice@example.org") + "."));
  assert.equal(fullOfKey(key), "alice@example.org/phone.1");
  assert.throws(() => fullKey("alice@example.org"), /not a full JID/);
});

Deno.test("R40 FarmNames makes one farm's subjects and bucket names", () => {
  const names = new FarmNames("main");
  assert.equal(names.node("n-1"), "jabberd.main.node.n-1");
  assert.equal(names.host("muc.example.org"), "jabberd.main.host.muc=2Eexample=2Eorg");
  assert.equal(names.all, "jabberd.main.all");
  assert.equal(names.homes, "jabberd_main_homes");
  assert.throws(() => new FarmNames("a.b"), /may hold only/);
});
