import assert from "node:assert/strict";
import { parseDocument } from "../xml/document.ts";
import type { XdbClient, XdbLogEntry } from "../server/module_api.ts";
import { JID } from "../util/jid.ts";
import { Archive, stripStanzaIds } from "./archive.ts";

const parse = (text: string) => parseDocument(text, "test").root;

Deno.test("stripStanzaIds() removes only the stanza-ids that claim the given by", () => {
  const message = parse(
    `<message><body>x</body><stanza-id xmlns="urn:xmpp:sid:0" by="a@b" id="1"/>` +
      `<stanza-id xmlns="urn:xmpp:sid:0" by="room@muc" id="2"/><stanza-id by="a@b" id="3"/></message>`,
  );
  stripStanzaIds(message, "a@b");
  assert.deepEqual(message.elements.map((e) => e.attrs.id), [undefined, "2", "3"]);
});

Deno.test("stripStanzaIds() keeps the children array of a message without stanza-ids as it is", () => {
  const message = parse(`<message><body>x</body><stanza-id by="a@b" id="3"/></message>`);
  const children = message.children;
  stripStanzaIds(message, "a@b");
  assert.equal(message.children, children, "no new array for a message with nothing to strip");
});

/** An XdbClient whose appends are answered by the test (`answer()`), the rest unused. */
function slowXdb() {
  const requests: { entries: readonly XdbLogEntry[]; answer(): void }[] = [];
  const unused = () => Promise.reject(new Error("not used by this test"));
  const xdb: XdbClient = {
    get: unused,
    set: unused,
    insert: unused,
    remove: unused,
    range: unused,
    trim: unused,
    append(_host, _ns, entries) {
      return new Promise<void>((answer) => requests.push({ entries: [...entries], answer }));
    },
  };
  return { xdb, requests };
}

const bob = JID.parse("bob@localhost/pc");
const turn = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

Deno.test("Archive: the messages added in one turn go out as one append request, in order", async () => {
  const { xdb, requests } = slowXdb();
  const archive = new Archive(xdb, (_what, error) => assert.fail(String(error)));
  for (let i = 0; i < 5; i++) {
    archive.add("alice@localhost", `id${i}`, bob, parse(`<message><body>${i}</body></message>`), 0);
  }
  await turn();
  assert.equal(requests.length, 1);
  assert.deepEqual(requests[0].entries.map((entry) => entry.key), [
    "id0",
    "id1",
    "id2",
    "id3",
    "id4",
  ]);
  // Added while that request is in flight: waits for its answer, then goes out as the next one.
  archive.add("alice@localhost", "id5", bob, parse(`<message><body>5</body></message>`), 0);
  await turn();
  assert.equal(requests.length, 1, "one request in flight per host");
  requests[0].answer();
  await turn();
  assert.deepEqual(requests[1].entries.map((entry) => entry.key), ["id5"]);
  requests[1].answer();
  await archive.idle();
});

Deno.test("Archive: with maxQueued messages unwritten it is full, and room() resolves once they are written", async () => {
  const { xdb, requests } = slowXdb();
  const archive = new Archive(xdb, (_what, error) => assert.fail(String(error)), { maxQueued: 3 });
  const message = parse(`<message><body>x</body></message>`);
  archive.add("alice@localhost", "a", bob, message, 0);
  archive.add("alice@localhost", "b", bob, message, 0);
  assert.equal(archive.full, false);
  archive.add("alice@localhost", "c", bob, message, 0);
  assert.equal(archive.full, true);
  assert.equal(archive.queued, 3);
  let room = false;
  archive.room().then(() => room = true);
  await turn();
  assert.equal(requests.length, 1);
  assert.equal(room, false, "no room while the request is unanswered");
  requests[0].answer();
  await turn();
  assert.equal(room, true);
  assert.equal(archive.full, false);
  assert.equal(archive.queued, 0);
  await archive.room(); // resolves at once when not full
  assert.throws(() => new Archive(xdb, () => {}, { maxQueued: 0 }), RangeError);
});

Deno.test("Archive: a failed append still makes room, and the failure is reported", async () => {
  const failures: string[] = [];
  const xdb = { ...slowXdb().xdb, append: () => Promise.reject(new Error("store down")) };
  const archive = new Archive(xdb, (what) => failures.push(what), { maxQueued: 1 });
  archive.add("alice@localhost", "a", bob, parse(`<message><body>x</body></message>`), 0);
  assert.equal(archive.full, true);
  await archive.room();
  assert.equal(archive.full, false);
  assert.deepEqual(failures, ["1 messages of localhost"]);
});

Deno.test("Archive: with delayMs, messages of several turns go out as one request, and a query does not wait for the delay", async () => {
  const { xdb, requests } = slowXdb();
  const due: (() => void)[] = [];
  const timer = { setTimeout: (callback: () => void) => due.push(callback) };
  const archive = new Archive(xdb, (_what, error) => assert.fail(String(error)), {
    delayMs: 5,
    timer,
  });
  const message = parse(`<message><body>x</body></message>`);
  archive.add("alice@localhost", "a", bob, message, 0);
  await turn();
  archive.add("bob@localhost", "b", bob, message, 0);
  await turn();
  assert.equal(requests.length, 0, "waiting for the delay");
  due.shift()!();
  assert.deepEqual(requests[0].entries.map((entry) => entry.key), ["a", "b"]);
  requests[0].answer();
  await turn();
  archive.add("alice@localhost", "c", bob, message, 0);
  await turn();
  assert.equal(requests.length, 1);
  const settled = archive.settled("alice@localhost");
  assert.deepEqual(requests[1].entries.map((entry) => entry.key), ["c"], "sent for the reader");
  requests[1].answer();
  await settled;
  for (const callback of due) callback(); // the delay's timer finds nothing left to send
  assert.equal(requests.length, 2);
  assert.throws(() => new Archive(xdb, () => {}, { delayMs: 5 }), RangeError);
});
