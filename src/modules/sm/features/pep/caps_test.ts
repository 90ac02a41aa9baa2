import assert from "node:assert/strict";
import { parse } from "../../_testing.ts";
import { CapsCache, capsOf, verificationString, verOf } from "./caps.ts";

// XEP-0115 §5.2, the simple example.
const SIMPLE = `<query xmlns="http://jabber.org/protocol/disco#info">
  <identity category="client" name="Exodus 0.9.1" type="pc"/>
  <feature var="http://jabber.org/protocol/caps"/>
  <feature var="http://jabber.org/protocol/disco#info"/>
  <feature var="http://jabber.org/protocol/disco#items"/>
  <feature var="http://jabber.org/protocol/muc"/>
</query>`;

// XEP-0115 §5.3, the complex example (two identities in two languages, an extended form).
const COMPLEX = `<query xmlns="http://jabber.org/protocol/disco#info">
  <identity xml:lang="en" category="client" name="Psi 0.11" type="pc"/>
  <identity xml:lang="el" category="client" name="Ψ 0.11" type="pc"/>
  <feature var="http://jabber.org/protocol/caps"/>
  <feature var="http://jabber.org/protocol/disco#info"/>
  <feature var="http://jabber.org/protocol/disco#items"/>
  <feature var="http://jabber.org/protocol/muc"/>
  <x xmlns="jabber:x:data" type="result">
    <field var="FORM_TYPE" type="hidden"><value>urn:xmpp:dataforms:softwareinfo</value></field>
    <field var="ip_version"><value>ipv4</value><value>ipv6</value></field>
    <field var="os"><value>Mac</value></field>
    <field var="os_version"><value>10.5.1</value></field>
    <field var="software"><value>Psi</value></field>
    <field var="software_version"><value>0.11</value></field>
  </x>
</query>`;

Deno.test("verOf() gives the ver of XEP-0115's simple example", async () => {
  const query = parse(SIMPLE);
  assert.equal(
    verificationString(query),
    "client/pc//Exodus 0.9.1<http://jabber.org/protocol/caps<" +
      "http://jabber.org/protocol/disco#info<http://jabber.org/protocol/disco#items<" +
      "http://jabber.org/protocol/muc<",
  );
  assert.equal(await verOf(query, "sha-1"), "QgayPKawpkPSDYmwT/WM94uAlu0=");
});

Deno.test("verOf() gives the ver of XEP-0115's complex example with a form", async () => {
  assert.equal(await verOf(parse(COMPLEX), "sha-1"), "q07IKJEyjvHSyhy//CH0CxmKi8w=");
  assert.equal(await verOf(parse(COMPLEX), "md5"), undefined);
});

Deno.test("CapsCache shares a verified ver and keeps a wrong one to its sender", async () => {
  const cache = new CapsCache();
  const good = capsOf(
    parse(
      `<presence><c xmlns="http://jabber.org/protocol/caps" hash="sha-1" node="n" ver="QgayPKawpkPSDYmwT/WM94uAlu0="/></presence>`,
    ),
  )!;
  assert.equal(cache.shouldAsk(good, "a@x/1", 0), true);
  assert.equal(cache.shouldAsk(good, "a@x/1", 1), false, "asked once at a time");
  assert.deepEqual(await cache.answered("a@x/1", parse(SIMPLE)), good);
  assert.ok(cache.features(good, "b@x/2")!.has("http://jabber.org/protocol/muc"));
  assert.equal(cache.shouldAsk(good, "b@x/2", 2), false, "known: nobody is asked again");

  const lying = { node: "n", ver: "AAAA", hash: "sha-1" };
  assert.equal(cache.shouldAsk(lying, "c@x/3", 0), true);
  await cache.answered("c@x/3", parse(SIMPLE));
  assert.ok(cache.features(lying, "c@x/3"), "kept for its sender");
  assert.equal(cache.features(lying, "d@x/4"), undefined, "not for others");
  assert.equal(await cache.answered("e@x/5", parse(SIMPLE)), undefined, "never asked");
});
