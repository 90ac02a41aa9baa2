/** Tests of the history a new occupant gets (XEP-0045 §7.2.15). */
import assert from "node:assert/strict";
import { NS_DELAY } from "../../util/ns.ts";
import { xml } from "../../xml/element.ts";
import { historyStanza, readHistoryRequest, selectHistory } from "./history.ts";
import type { HistoryEntry } from "./room.ts";

const entries: HistoryEntry[] = [1, 2, 3, 4].map((n) => {
  const stanza = xml("message", { from: "r@c/n", type: "groupchat" }, xml("body", {}, `m${n}`));
  return { stanza, stamp: n * 1000, chars: stanza.toString().length };
});
const bodies = (chosen: HistoryEntry[]) => chosen.map((e) => e.stanza.getChildText("body"));

Deno.test("selectHistory() keeps the newest entries within every limit at once", () => {
  assert.deepEqual(bodies(selectHistory(entries, {}, 20, 5000)), ["m1", "m2", "m3", "m4"]);
  assert.deepEqual(bodies(selectHistory(entries, {}, 2, 5000)), ["m3", "m4"]);
  assert.deepEqual(bodies(selectHistory(entries, { maxStanzas: 3 }, 2, 5000)), ["m3", "m4"]);
  assert.deepEqual(bodies(selectHistory(entries, { seconds: 2 }, 20, 5000)), ["m3", "m4"]);
  assert.deepEqual(bodies(selectHistory(entries, { since: 2000, maxStanzas: 1 }, 20, 5000)), [
    "m4",
  ]);
  assert.deepEqual(bodies(selectHistory(entries, { maxChars: entries[0].chars * 2 }, 20, 0)), [
    "m3",
    "m4",
  ]);
  assert.deepEqual(selectHistory(entries, { maxChars: 0 }, 20, 0), []);
});

Deno.test("readHistoryRequest() reads the attributes and ignores bad ones", () => {
  assert.deepEqual(
    readHistoryRequest(
      xml("history", { maxstanzas: "5", seconds: "x", since: "1970-01-01T00:00:02Z" }),
    ),
    { maxStanzas: 5, maxChars: undefined, seconds: undefined, since: 2000 },
  );
  assert.deepEqual(readHistoryRequest(undefined), {});
});

Deno.test("historyStanza() addresses a copy and stamps it with the room's delay", () => {
  const sent = historyStanza(entries[0], "a@localhost/r", "r@c");
  assert.equal(sent.attrs.to, "a@localhost/r");
  assert.deepEqual(sent.getChild("delay", NS_DELAY)?.attrs, {
    xmlns: NS_DELAY,
    from: "r@c",
    stamp: "1970-01-01T00:00:01.000Z",
  });
  assert.equal(entries[0].stanza.attrs.to, undefined);
});
