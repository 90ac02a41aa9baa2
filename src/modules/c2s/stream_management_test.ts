import assert from "node:assert/strict";
import { StreamError } from "../../util/errors.ts";
import { xml } from "../../xml/element.ts";
import { readC2sConfig } from "./config.ts";
import { failed, readH, smNonza, StreamManagement } from "./stream_management.ts";

Deno.test("StreamManagement.ack() drops what h acknowledges and refuses an h beyond what was sent", () => {
  const sm = new StreamManagement(false);
  assert.equal(sm.token, undefined);
  for (const id of ["a", "b", "c"]) sm.unacked.push(xml("message", { id }));
  sm.requested = true;
  assert.equal(sm.ack(2), true);
  assert.equal(sm.requested, false);
  assert.deepEqual(sm.unacked.map((s) => s.attrs.id), ["c"]);
  assert.equal(sm.ack(2), true, "the same h again acknowledges nothing new");
  assert.deepEqual(sm.unacked.map((s) => s.attrs.id), ["c"]);
  assert.equal(sm.ack(4), false);
  assert.equal(sm.ack(2 ** 32 - 1), false, "a wrapped h is counted from the last one too");
  assert.deepEqual(sm.unacked.map((s) => s.attrs.id), ["c"]);
  assert.equal(sm.ack(3), true);
  assert.deepEqual(sm.unacked, []);
});

Deno.test("StreamManagement counts handled stanzas modulo 2^32 and makes unguessable ids", () => {
  const sm = new StreamManagement(true);
  sm.handled = 2 ** 32 - 1;
  sm.countIn();
  assert.equal(sm.handled, 0);
  assert.match(sm.token!, /^[A-Za-z0-9]{20,}$/);
  assert.notEqual(sm.token, new StreamManagement(true).token);
});

Deno.test("readH() takes a 32-bit count and refuses anything else with bad-format", () => {
  assert.equal(readH(xml("a", { h: "0" })), 0);
  assert.equal(readH(xml("a", { h: "4294967295" })), 4294967295);
  for (const h of [undefined, "", "-1", "1.5", "4294967296", "0x10"]) {
    assert.throws(
      () => readH(xml("a", h === undefined ? {} : { h })),
      (e) => e instanceof StreamError && e.condition === "bad-format",
      `h=${h}`,
    );
  }
});

Deno.test("smNonza() and failed() write the XEP-0198 elements", () => {
  assert.equal(smNonza("a", { h: 3 }), "<a xmlns='urn:xmpp:sm:3' h='3'/>");
  assert.equal(
    failed("item-not-found"),
    "<failed xmlns='urn:xmpp:sm:3'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></failed>",
  );
});

Deno.test("readC2sConfig() reads <stream-management> with its defaults", () => {
  const c2s = (...children: ReturnType<typeof xml>[]) =>
    readC2sConfig(xml("c2s", {}, xml("domain", {}, "localhost"), ...children));
  assert.deepEqual(c2s().streamManagement, {
    enabled: true,
    resumeTimeout: 300_000,
    maxUnacked: 500,
  });
  assert.deepEqual(
    c2s(xml("stream-management", { "resume-timeout": "30s", "max-unacked": "50" }))
      .streamManagement,
    { enabled: true, resumeTimeout: 30_000, maxUnacked: 50 },
  );
  assert.equal(c2s(xml("stream-management", { enabled: "false" })).streamManagement.enabled, false);
});
