import assert from "node:assert/strict";
import { deriveCredentials, verifyPlain } from "./credentials.ts";
import {
  hostEnd,
  hostStart,
  parseEjabberdScram,
  pieHead,
  pieTail,
  type PieUser,
  readPie,
  userElement,
} from "./xep0227.ts";
import { xml } from "../xml/element.ts";

const FIXTURES = new URL("../../tests/fixtures/xep0227/", import.meta.url).pathname;

/** Reads every user of the files, with the warnings. */
async function read(files: string[], extra: Record<string, string> = {}) {
  const warnings: string[] = [];
  const users: PieUser[] = [];
  const io = {
    readTextFile: (path: string) =>
      path in extra ? Promise.resolve(extra[path]) : Deno.readTextFile(path),
    warn: (message: string) => void warnings.push(message),
  };
  for (const file of files) for await (const user of readPie(file, io)) users.push(user);
  return { users, warnings };
}

Deno.test("readPie() reads Prosody's migrator output: SCRAM-SHA-1, roster, pending, vCard, private", async () => {
  const { users, warnings } = await read([
    FIXTURES + "prosody/alice@example.org.xml",
    FIXTURES + "prosody/bob@example.org.xml",
  ]);
  assert.deepEqual(warnings, []);
  assert.deepEqual(users.map((u) => `${u.name}@${u.host}`), [
    "alice@example.org",
    "bob@example.org",
  ]);
  const [alice, bob] = users;
  assert.equal(alice.password, undefined);
  assert.deepEqual(alice.scram.map((s) => [s.hash, s.iterations]), [["SHA-1", 10000]]);
  assert.equal(await verifyPlain({ scram: alice.scram }, "wonderland-1"), true);
  assert.equal(await verifyPlain({ scram: alice.scram }, "wonderland-2"), false);
  assert.equal(await verifyPlain({ scram: bob.scram }, 'b0b&"pässword'), true);
  assert.deepEqual(alice.rosterItems.map((i) => i.attrs.jid), [
    "bob@example.org",
    "dave@example.net",
  ]);
  assert.equal(alice.rosterItems[1].attrs.ask, "subscribe");
  assert.deepEqual(alice.pendingIn, ["carol@example.net"]);
  assert.equal(alice.vcard?.getChildText("FN"), "Alice Liddell");
  assert.equal(alice.privateXml[0].ns, "storage:bookmarks");
  assert.deepEqual(bob.rosterItems[0].getChildren("group").map((g) => g.text()), [
    "Friends",
    "Work",
  ]);
});

Deno.test("readPie() follows ejabberd's XInclude files and undoes its double base64", async () => {
  const { users, warnings } = await read([FIXTURES + "ejabberd/20261126-131902.xml"]);
  assert.deepEqual(warnings, []);
  assert.deepEqual(users.map((u) => `${u.name}@${u.host}`), [
    "alice@example.org",
    "bob@example.org",
    "carol@plain.example",
  ]);
  const [alice, bob, carol] = users;
  assert.equal(alice.scram[0].storedKey.length, 20);
  assert.equal(await verifyPlain({ scram: alice.scram }, "wonderland-1"), true);
  assert.equal(await verifyPlain({ scram: bob.scram }, 'b0b&"pässword'), true);
  assert.equal(await verifyPlain({ scram: bob.scram }, "b0b"), false);
  assert.equal(carol.password, "carol-plain-2");
  assert.deepEqual(carol.scram, []);
  assert.equal(alice.offline.length, 1);
  assert.equal(alice.offline[0].getChildText("body"), "Are you there, Alice?");
  assert.equal(alice.offline[0].ns, "jabber:client");
});

Deno.test('parseEjabberdScram() reads the old password="scram:…" form, with and without a hash', async () => {
  const { scram: [sha1] } = await deriveCredentials("secret", {
    iterations: 4096,
    hashes: ["SHA-1"],
  });
  const twice = (bytes: Uint8Array) => new TextEncoder().encode(bytes.toBase64()).toBase64();
  const fields = [twice(sha1.storedKey), twice(sha1.serverKey), twice(sha1.salt), "4096"];
  const parsed = parseEjabberdScram("scram:" + fields.join(","));
  assert.ok(parsed);
  assert.equal(await verifyPlain({ scram: [parsed] }, "secret"), true);
  const { scram: [sha256] } = await deriveCredentials("secret", {
    iterations: 4096,
    hashes: ["SHA-256"],
  });
  const once = [sha256.storedKey, sha256.serverKey, sha256.salt].map((b) => b.toBase64());
  const parsed256 = parseEjabberdScram(`scram:sha256,${once.join(",")},4096`);
  assert.equal(parsed256?.hash, "SHA-256");
  assert.equal(await verifyPlain({ scram: [parsed256!] }, "secret"), true);
  assert.equal(parseEjabberdScram("scram:a,b,c"), undefined);
  assert.equal(parseEjabberdScram("scram:md5,a,b,c,1"), undefined);
});

Deno.test("userElement() and readPie() round-trip a user without writing any password", async () => {
  const { scram } = await deriveCredentials("pässword", { iterations: 4096 });
  const user: PieUser = {
    host: "example.org",
    name: "zoë",
    scram,
    rosterItems: [
      xml(
        "item",
        { jid: "a@b.example", subscription: "to", name: "A & B" },
        xml("group", {}, "<g>"),
      ),
    ],
    pendingIn: ["c@d.example"],
    vcard: xml("vCard", { xmlns: "vcard-temp" }, xml("FN", {}, "Zoë")),
    privateXml: [xml("note", { xmlns: "urn:example:notes" }, "hi")],
    offline: [
      xml("message", { xmlns: "jabber:client", from: "a@b.example" }, xml("body", {}, "x")),
    ],
    ignored: [],
  };
  const text = pieHead() + hostStart("example.org") + userElement(user) + hostEnd() + pieTail();
  assert.doesNotMatch(text, /password/);
  const { users, warnings } = await read(["/virtual.xml"], { "/virtual.xml": text });
  assert.deepEqual(warnings, []);
  const [back] = users;
  assert.equal(back.name, "zoë");
  assert.equal(back.password, undefined);
  assert.deepEqual(back.scram, scram);
  assert.equal(await verifyPlain({ scram: back.scram }, "pässword"), true);
  assert.equal(back.rosterItems[0].attrs.name, "A & B");
  assert.equal(back.rosterItems[0].getChildText("group"), "<g>");
  assert.deepEqual(back.pendingIn, ["c@d.example"]);
  assert.equal(back.vcard?.toString(), user.vcard!.toString());
  assert.equal(back.privateXml[0].toString(), user.privateXml[0].toString());
  assert.equal(back.offline[0].toString(), user.offline[0].toString());
});

Deno.test("readPie() warns about what it skips and refuses an XInclude loop", async () => {
  const loop = `<server-data xmlns='urn:xmpp:pie:0' xmlns:xi='http://www.w3.org/2001/XInclude'>` +
    `<xi:include href='loop.xml'/></server-data>`;
  await assert.rejects(read(["/d/loop.xml"], { "/d/loop.xml": loop }), /includes itself/);
  const odd =
    `<server-data xmlns='urn:xmpp:pie:0'><host jid='h.example'><user name='u' password='p'>` +
    `<query xmlns='jabber:iq:privacy'/></user><user/></host><other/></server-data>`;
  const { users, warnings } = await read(["/odd.xml"], { "/odd.xml": odd });
  assert.equal(users.length, 1);
  assert.deepEqual(users[0].ignored, ['<query xmlns="jabber:iq:privacy">']);
  assert.equal(warnings.length, 2);
});
