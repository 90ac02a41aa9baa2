/**
 * Tests of acknowledgements on links (ROUTING.md R48): the outbox keeps what a stream did not
 * acknowledge and writes exactly the rest again on the peer's next stream; the receiver counts.
 */
import assert from "node:assert/strict";
import { ManualClock } from "../adapters/memory/clock.ts";
import { Packet } from "../tree/packet.ts";
import type { StanzaErrorCondition } from "../util/errors.ts";
import { parseDocument } from "../xml/document.ts";
import { xml } from "../xml/element.ts";

const parseXml = (text: string) => parseDocument(text, "test").root;
import { ackElement, ackHandshake, readAck, readHandshakeAcks, Receiver } from "./acks.ts";
import { Outbox } from "./outbox.ts";
import type { StreamLink } from "./stream_link.ts";

/** A stream that records what is written to it and can be made to end. */
function fakeLink(): { link: StreamLink; written: string[]; end(): void } {
  const written: string[] = [];
  let ended = false;
  const link = {
    get ended() {
      return ended;
    },
    send(data: string) {
      if (!ended) written.push(data);
    },
  } as unknown as StreamLink;
  return { link, written, end: () => ended = true };
}

const message = (n: number) =>
  new Packet(xml("message", { to: "bot.example", from: "a@example/r", id: `m${n}` }));
const ids = (written: string[]) => written.map((text) => /id="?'?(m\d+)/.exec(text)?.[1]);

function outbox(queueMax = 100, queueAgeMs = 60_000) {
  const clock = new ManualClock();
  const bounced: Packet[] = [];
  const dropped: StanzaErrorCondition[] = [];
  const box = new Outbox({
    queueMax,
    queueAgeMs,
    clock,
    carryHops: false,
    deliver: (packet) => bounced.push(packet),
    dropped: (_packet, condition) => dropped.push(condition),
  });
  return { box, clock, bounced, dropped };
}

Deno.test("R48 a stream that ends unacknowledged: its peer's next stream gets exactly the packets the peer did not take, before newer ones", () => {
  const { box, bounced } = outbox();
  const first = fakeLink();
  box.attach(first.link, "", { id: "s1", previous: undefined });
  for (let n = 1; n <= 5; n++) box.send(message(n));
  assert.deepEqual(ids(first.written), ["m1", "m2", "m3", "m4", "m5"]);
  box.acknowledged(first.link, 2);
  assert.equal(box.inFlight, 3);
  // The peer dies; the stream's end is noticed later, and m6 is written to the dead socket first.
  box.send(message(6));
  first.end();
  box.detach(first.link);
  box.send(message(7));
  assert.equal(box.queued, 5);
  // The peer took m3 too before the stream broke, and says so in the new handshake.
  const second = fakeLink();
  box.attach(second.link, "", { id: "s2", previous: { id: "s1", h: 3 } });
  assert.deepEqual(ids(second.written), ["m4", "m5", "m6", "m7"]);
  assert.equal(box.queued, 0);
  assert.deepEqual(bounced, []);
});

Deno.test("R48 a peer that restarted (no receipt for the old stream) gets every unacknowledged packet again", () => {
  const { box } = outbox();
  const first = fakeLink();
  box.attach(first.link, "", { id: "s1", previous: undefined });
  for (let n = 1; n <= 3; n++) box.send(message(n));
  box.acknowledged(first.link, 1);
  first.end();
  box.detach(first.link);
  const second = fakeLink();
  box.attach(second.link, "", { id: "s2", previous: { id: "some other stream", h: 9 } });
  assert.deepEqual(ids(second.written), ["m2", "m3"]);
});

Deno.test("R48 at most queueMax packets are in flight; more wait in the queue and go as acknowledgements come", () => {
  const { box, bounced } = outbox(2);
  const live = fakeLink();
  box.attach(live.link, "", { id: "s1", previous: undefined });
  for (let n = 1; n <= 4; n++) box.send(message(n));
  assert.deepEqual(ids(live.written), ["m1", "m2"]);
  assert.equal(box.queued, 2);
  // One more than the queue holds bounces at once (R17).
  box.send(message(5));
  assert.equal(bounced.length, 1);
  assert.equal(bounced[0].element.attrs.type, "error");
  box.acknowledged(live.link, 2);
  assert.deepEqual(ids(live.written), ["m1", "m2", "m3", "m4"]);
  assert.throws(() => box.acknowledged(live.link, 5), RangeError);
  assert.throws(() => box.acknowledged(live.link, 1), RangeError);
});

Deno.test("R48 unacknowledged packets of an ended stream bounce when the peer stays away longer than the queue age, and when the link closes", () => {
  const { box, clock, bounced } = outbox(100, 1000);
  const first = fakeLink();
  box.attach(first.link, "", { id: "s1", previous: undefined });
  box.send(message(1));
  first.end();
  box.detach(first.link);
  clock.advance(1000);
  assert.equal(bounced.length, 1);
  assert.match(bounced[0].element.toString(), /remote-server-timeout/);
  const second = fakeLink();
  box.attach(second.link, "", { id: "s2", previous: undefined });
  box.send(message(2));
  box.close("service-unavailable");
  assert.equal(bounced.length, 2);
  assert.match(bounced[1].element.toString(), /service-unavailable/);
});

Deno.test("R48 a stream without acknowledgements (a third-party XEP-0114 peer) keeps nothing", () => {
  const { box } = outbox();
  const plain = fakeLink();
  box.attach(plain.link);
  box.send(message(1));
  assert.equal(box.inFlight, 0);
  plain.end();
  box.detach(plain.link);
  assert.equal(box.queued, 0);
});

Deno.test("R48 the receiver acknowledges once per turn with the count on the stream, and tells its receipt for the next handshake", async () => {
  const receiver = new Receiver();
  assert.equal(receiver.previous, undefined);
  const written: string[] = [];
  receiver.begin("s1", (data) => written.push(data));
  receiver.took("s1");
  receiver.took("s1");
  receiver.took("s1");
  await Promise.resolve();
  assert.deepEqual(written, [ackElement(3)]);
  assert.equal(readAck(parseXml(written[0])), 3);
  assert.deepEqual(receiver.previous, { id: "s1", h: 3 });
  const handshake = parseXml(ackHandshake(receiver.previous, "00ff").toString());
  assert.deepEqual(readHandshakeAcks(handshake), { previous: { id: "s1", h: 3 } });
  assert.equal(handshake.text(), "00ff");
  assert.equal(readHandshakeAcks(parseXml("<handshake>00ff</handshake>")), undefined);
  assert.throws(() => readAck(parseXml("<a xmlns='jabberd:link' h='x'/>")), RangeError);
});
