import assert from "node:assert/strict";
import { StanzaError } from "../util/errors.ts";
import { parseDocument } from "../xml/document.ts";
import { after, idAt } from "./ids.ts";
import { readQuery } from "./query.ts";

const parse = (text: string) => parseDocument(text, "test").root;

const FORM = (fields: string) =>
  `<x xmlns="jabber:x:data" type="submit"><field var="FORM_TYPE"><value>urn:xmpp:mam:2</value></field>${fields}</x>`;
const query = (inner: string) =>
  readQuery(parse(`<query xmlns="urn:xmpp:mam:2" queryid="q1">${inner}</query>`));
const condition = (inner: string): string | undefined => {
  try {
    query(inner);
    return undefined;
  } catch (error) {
    return (error as StanzaError).condition;
  }
};

Deno.test("readQuery() turns start, end, after-id and before-id into the narrowest key range", () => {
  const start = Date.UTC(2024, 4, 17, 8);
  const read = query(
    FORM(
      `<field var="start"><value>2024-05-17T08:00:00Z</value></field>` +
        `<field var="end"><value>2024-05-17T09:00:00.000Z</value></field>` +
        `<field var="after-id"><value>01HY0000000000000A</value></field>`,
    ) + `<set xmlns="http://jabber.org/protocol/rsm"><max>10</max><before/></set><flip-page/>`,
  );
  assert.equal(read.queryid, "q1");
  // The later of the two lower bounds.
  const bounds = [after("01HY0000000000000A"), idAt(start)].sort();
  assert.equal(read.start, bounds[1]);
  assert.equal(read.end, idAt(start + 3_600_000 + 1));
  assert.deepEqual([read.max, read.before, read.flip], [10, "", true]);
  assert.deepEqual(read.mustExist, ["01HY0000000000000A"]);
});

Deno.test("readQuery() refuses unknown fields, bad times, a bad FORM_TYPE, a bad max and <index>", () => {
  assert.equal(condition(FORM(`<field var="colour"><value>red</value></field>`)), "bad-request");
  assert.equal(condition(FORM(`<field var="start"><value>today</value></field>`)), "bad-request");
  assert.equal(condition(FORM(`<field var="with"><value>@@</value></field>`)), "jid-malformed");
  assert.equal(
    condition(`<x xmlns="jabber:x:data"><field var="FORM_TYPE"><value>x</value></field></x>`),
    "bad-request",
  );
  assert.equal(
    condition(`<set xmlns="http://jabber.org/protocol/rsm"><max>-1</max></set>`),
    "bad-request",
  );
  assert.equal(
    condition(`<set xmlns="http://jabber.org/protocol/rsm"><index>3</index></set>`),
    "feature-not-implemented",
  );
  assert.equal(condition(""), undefined);
});
