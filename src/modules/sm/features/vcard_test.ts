import assert from "node:assert/strict";
import { smWorld } from "../_testing.ts";
import { photoHash, vcard } from "./vcard.ts";

// "hello" in base64; its SHA-1 is well known.
const PHOTO = "aGVs\nbG8=";
const HELLO_SHA1 = "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d";

Deno.test("vcard sets one's own vCard, and anyone reads it; a stranger's set is forbidden", async () => {
  const world = await smWorld({ features: [vcard] });
  try {
    await world.addUser("alice@localhost");
    const alice = world.bind("alice@localhost/phone");
    await world.send(
      `<iq type="set" id="s1"><vCard xmlns="vcard-temp"><FN>Alice</FN></vCard></iq>`,
      alice,
    );
    await world.send(`<iq type="get" id="g1"><vCard xmlns="vcard-temp"/></iq>`, alice);
    const [set, own] = world.take(alice);
    assert.equal(set.attrs.type, "result");
    assert.equal(own.getChild("vCard", "vcard-temp")!.getChildText("FN"), "Alice");
    await world.send(
      `<iq type="get" id="g2" from="bob@example.org/x" to="alice@localhost"><vCard xmlns="vcard-temp"/></iq>`,
    );
    assert.equal(world.remote.at(-1)!.getChild("vCard", "vcard-temp")!.getChildText("FN"), "Alice");
    await world.send(
      `<iq type="set" id="s2" from="bob@example.org/x" to="alice@localhost"><vCard xmlns="vcard-temp"/></iq>`,
    );
    assert.equal(world.remote.at(-1)!.getChild("error")!.elements[0].local, "forbidden");
    await world.send(
      `<iq type="get" id="g3" from="bob@example.org/x" to="nobody@localhost"><vCard xmlns="vcard-temp"/></iq>`,
    );
    assert.equal(world.remote.at(-1)!.getChild("error")!.elements[0].local, "service-unavailable");
  } finally {
    await world.stop();
  }
});

Deno.test("vcard adds the photo hash to available broadcast presence, not to directed", async () => {
  const world = await smWorld({ features: [vcard] });
  try {
    const alice = world.bind("alice@localhost/phone");
    await world.settle();
    await world.send(
      `<iq type="set" id="s1"><vCard xmlns="vcard-temp"><PHOTO><TYPE>image/png</TYPE><BINVAL>${PHOTO}</BINVAL></PHOTO></vCard></iq>`,
      alice,
    );
    const stanzas: string[] = [];
    world.api.hook("pre-presence/bare", ({ stanza }: { stanza: { toString(): string } }) => {
      stanzas.push(stanza.toString());
    }, 0);
    await world.send(`<presence><show>away</show></presence>`, alice);
    await world.send(`<presence to="carol@localhost"/>`, alice);
    await world.send(
      `<presence><x xmlns="vcard-temp:x:update"><photo>abc</photo></x></presence>`,
      alice,
    );
    assert.match(stanzas[0], new RegExp(`<photo>${HELLO_SHA1}</photo>`));
    assert.doesNotMatch(stanzas[1], /vcard-temp:x:update/, "directed presence is left alone");
    assert.match(stanzas[2], /<photo>abc<\/photo>/);
    assert.doesNotMatch(stanzas[2], new RegExp(HELLO_SHA1), "the client's own <x> is kept");
  } finally {
    await world.stop();
  }
});

Deno.test("vcard stamps an empty photo for a user without one, once storage answered", async () => {
  const world = await smWorld({ features: [vcard] });
  try {
    const alice = world.bind("alice@localhost/phone");
    await world.settle();
    const stanza = `<presence/>`;
    const seen: string[] = [];
    world.api.hook("pre-presence/bare", (data: { stanza: object }) => {
      seen.push(String(data.stanza));
    }, 0);
    await world.send(stanza, alice);
    assert.match(seen[0], /<x xmlns=['"]vcard-temp:x:update['"]><photo\/><\/x>/);
  } finally {
    await world.stop();
  }
});

Deno.test("photoHash() hashes the decoded BINVAL and is empty without a photo", async () => {
  const { parse } = await import("../_testing.ts");
  const card = parse(`<vCard xmlns="vcard-temp"><PHOTO><BINVAL>${PHOTO}</BINVAL></PHOTO></vCard>`);
  assert.equal(await photoHash(card), HELLO_SHA1);
  assert.equal(await photoHash(parse(`<vCard xmlns="vcard-temp"/>`)), "");
  assert.equal(await photoHash(undefined), "");
});
