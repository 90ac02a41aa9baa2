import assert from "node:assert/strict";
import type { Connection } from "../../adapters/types.ts";
import { ManualClock } from "../../adapters/memory/clock.ts";
import type { Logger } from "../../server/module_api.ts";
import { StreamError, type StreamErrorCondition } from "../../util/errors.ts";
import { type Element, xml } from "../../xml/element.ts";
import { readC2sConfig } from "./config.ts";
import {
  failed,
  type ManagedStream,
  readH,
  SmCounters,
  smNonza,
  StreamManagement,
} from "./stream_management.ts";
import type { C2sContext } from "./stream.ts";

/**
 * A connection as stream management sees it, recording what it is told to do; its context holds
 * only what stream management reads (the config, a manual clock, a silent log), and no socket.
 */
class RecordingStream implements ManagedStream {
  id: string;
  username: string | undefined = "juliet";
  jid: string | undefined;
  binding = false;
  readonly domain = "localhost";
  readonly ctx: C2sContext;
  readonly conn = undefined as unknown as Connection;
  readonly sm: StreamManagement;
  written: string[] = [];
  /** `streamError`, `resumed`, `leave` and `expired`, in order. */
  events: string[] = [];
  /** What `end()` handed back when the detached session expired. */
  handedBack: Element[] | undefined;

  constructor(
    id: string,
    clock: ManualClock,
    resumable: Map<string, StreamManagement>,
  ) {
    this.id = id;
    const log = () => {};
    const logger: Logger = {
      log,
      debug: log,
      info: log,
      notice: log,
      warn: log,
      error: log,
      alert: log,
    };
    const c2s = xml(
      "c2s",
      {},
      xml("domain", {}, "localhost"),
      xml("stream-management", { "resume-timeout": "60s", "max-unacked": "7" }),
    );
    this.ctx = { config: readC2sConfig(c2s), timer: clock, log: logger } as unknown as C2sContext;
    this.sm = new StreamManagement(this, resumable);
  }

  /** Sends `<local/>` of the XEP-0198 namespace with `attrs` to the step. */
  nonza(local: string, attrs: Record<string, string> = {}): void {
    this.sm.handle(xml(local, { xmlns: "urn:xmpp:sm:3", ...attrs }));
  }

  write(data: string): void {
    this.written.push(data);
  }
  restart(): void {}
  end(): void {}
  close(): void {}
  streamError(condition: StreamErrorCondition): void {
    this.events.push(`streamError ${condition}`);
  }
  resumed(jid: string, id: string): void {
    this.events.push(`resumed ${jid} ${id}`);
    this.jid = jid;
    this.id = id;
  }
  leave(): void {
    this.events.push("leave");
    this.jid = undefined;
  }
  expired(): void {
    this.events.push("expired");
    this.handedBack = this.sm.end();
  }
}

/** Ten messages with ids `m0`…`m9`. */
function messages(count = 10): Element[] {
  return Array.from({ length: count }, (_, i) => xml("message", { id: `m${i}` }));
}

Deno.test("StreamManagement.handle() refuses <enable/> before binding or twice, and <r/> before <enable/>", () => {
  const stream = new RecordingStream("1", new ManualClock(), new Map());
  stream.nonza("enable");
  assert.deepEqual(stream.written, [failed("unexpected-request")]);
  assert.throws(
    () => stream.nonza("r"),
    (e) => e instanceof StreamError && e.condition === "unsupported-stanza-type",
  );
  stream.jid = "juliet@localhost/balcony";
  stream.written = [];
  stream.nonza("enable");
  stream.nonza("enable");
  assert.deepEqual(stream.written, [smNonza("enabled"), failed("unexpected-request")]);
});

Deno.test("StreamManagement.send() asks for an ack after 5 stanzas, counts <r/> and ends the stream past max-unacked", () => {
  const stream = new RecordingStream("1", new ManualClock(), new Map());
  const [first, ...rest] = messages();
  stream.sm.send(first);
  assert.deepEqual(stream.written, [first.toString()], "without <enable/> it only writes");
  stream.jid = "juliet@localhost/balcony";
  stream.nonza("enable");
  stream.written = [];
  for (const stanza of rest.slice(0, 6)) stream.sm.send(stanza);
  assert.equal(stream.written.filter((w) => w === smNonza("r")).length, 1, "one <r/> at a time");
  assert.equal(stream.written.indexOf(smNonza("r")), 5);
  stream.sm.countIn();
  stream.sm.countIn();
  stream.nonza("r");
  assert.equal(stream.written.at(-1), smNonza("a", { h: 2 }));
  assert.throws(
    () => stream.nonza("a", { h: "7" }),
    (e) => e instanceof StreamError && e.condition === "undefined-condition",
  );
  stream.sm.send(rest[6]);
  stream.sm.send(rest[7]);
  assert.deepEqual(stream.events, ["streamError resource-constraint"]);
});

Deno.test("StreamManagement resumes a detached session of the same account only, resending what h does not acknowledge", () => {
  const clock = new ManualClock();
  const resumable = new Map<string, StreamManagement>();
  const old = new RecordingStream("1", clock, resumable);
  old.jid = "juliet@localhost/balcony";
  old.nonza("enable", { resume: "true" });
  const previd = /id='([^']+)'/.exec(old.written[0])![1];
  const sent = messages(3);
  for (const stanza of sent) old.sm.send(stanza);
  assert.equal(old.sm.detach(), true);
  assert.equal(old.sm.detached, true);

  const romeo = new RecordingStream("2", clock, resumable);
  romeo.username = "romeo";
  romeo.nonza("resume", { previd, h: "1" });
  assert.deepEqual(romeo.written, [failed("item-not-found")]);

  const back = new RecordingStream("3", clock, resumable);
  back.nonza("resume", { previd, h: "1" });
  assert.deepEqual(old.events, ["leave"]);
  assert.equal(old.sm.detached, false);
  assert.deepEqual(back.events, ["resumed juliet@localhost/balcony 1"]);
  assert.deepEqual(back.written, [
    smNonza("resumed", { previd, h: 0 }),
    sent[1].toString(),
    sent[2].toString(),
    smNonza("r"),
  ]);
  assert.equal(resumable.get(previd), back.sm);
  clock.advance(120_000);
  assert.deepEqual(old.events, ["leave"], "the old detach timer no longer runs");
});

Deno.test("StreamManagement.detach() holds stanzas until the resume timeout, then hands them back", () => {
  const clock = new ManualClock();
  const resumable = new Map<string, StreamManagement>();
  const stream = new RecordingStream("1", clock, resumable);
  stream.jid = "juliet@localhost/balcony";
  stream.nonza("enable");
  assert.equal(stream.sm.detach(), false, "no resumption was asked for");
  stream.sm.end();
  stream.nonza("enable", { resume: "true" });
  assert.equal(stream.sm.detach(), true);
  const held = messages(2);
  stream.written = [];
  for (const stanza of held) stream.sm.send(stanza);
  assert.deepEqual(stream.written, [], "a detached session writes nothing");
  clock.advance(59_999);
  assert.deepEqual(stream.events, []);
  clock.advance(1);
  assert.deepEqual(stream.events, ["expired"]);
  assert.deepEqual(stream.handedBack, held);
  assert.equal(resumable.size, 0);
});

Deno.test("SmCounters.ack() drops what h acknowledges and refuses an h beyond what was sent", () => {
  const sm = new SmCounters(false);
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

Deno.test("SmCounters counts handled stanzas modulo 2^32 and makes unguessable ids", () => {
  const sm = new SmCounters(true);
  sm.handled = 2 ** 32 - 1;
  sm.countIn();
  assert.equal(sm.handled, 0);
  assert.match(sm.token!, /^[A-Za-z0-9]{20,}$/);
  assert.notEqual(sm.token, new SmCounters(true).token);
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
