import assert from "node:assert/strict";
import { parse } from "../../_testing.ts";
import { archives, prefsElement, readPrefs } from "./prefs.ts";

const PREFS = `<prefs xmlns="urn:xmpp:mam:2" default="roster">
  <always><jid>Romeo@Montague.lit</jid></always>
  <never><jid>tybalt@capulet.lit/sword</jid></never>
</prefs>`;

Deno.test("archives() applies never, then always, then the default (XEP-0313 §6.1)", () => {
  const prefs = readPrefs(parse(PREFS), "always");
  assert.deepEqual([...prefs.always], ["romeo@montague.lit"]);
  assert.equal(archives(prefs, "tybalt@capulet.lit", () => true), false);
  assert.equal(archives(prefs, "romeo@montague.lit", () => false), true);
  assert.equal(archives(prefs, "nurse@capulet.lit", () => true), true);
  assert.equal(archives(prefs, "nurse@capulet.lit", () => false), false);
  assert.equal(archives(readPrefs(undefined, "never"), "a@b", () => true), false);
});

Deno.test("readPrefs() refuses an unknown default and prefsElement() writes the lists", () => {
  assert.throws(() => readPrefs(parse(`<prefs default="sometimes"/>`), "always"), /default/);
  const written = prefsElement(readPrefs(parse(PREFS), "always"));
  assert.equal(written.attrs.default, "roster");
  assert.equal(written.getChild("never")?.getChildText("jid"), "tybalt@capulet.lit");
});
