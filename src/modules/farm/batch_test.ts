import assert from "node:assert/strict";
import { Packet } from "../../tree/packet.ts";
import { xml } from "../../xml/element.ts";
import { FarmBatcher } from "./batch.ts";
import { FarmPacketReader } from "./wire.ts";

/** A sender that records each request and answers it when the test says so. */
function fakeLink() {
  const sent: { subject: string; data: Uint8Array; answer(delivered: boolean): void }[] = [];
  const send = (subject: string, data: Uint8Array) =>
    new Promise<boolean>((answer) => sent.push({ subject, data, answer }));
  return { sent, send };
}

const message = (n: number) => xml("message", { to: "bob@localhost", id: `m${n}` });
const ids = (data: Uint8Array) =>
  new FarmPacketReader().readAll(data).packets.map((packet) => packet.element.attrs.id);
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test(
  "R43 packets for one node queued in one tick go as one NATS request, in order, one hop further, and each learns its acknowledgement",
  async () => {
    const link = fakeLink();
    const batcher = new FarmBatcher(link.send);
    const results = [1, 2, 3].map((n) =>
      batcher.send("node.n2", new Packet(message(n), { hops: n }))
    );
    assert.equal(link.sent.length, 0, "nothing leaves before the end of the tick");
    await tick();
    assert.equal(link.sent.length, 1);
    assert.equal(link.sent[0].subject, "node.n2");
    const { packets, error } = new FarmPacketReader().readAll(link.sent[0].data);
    assert.equal(error, undefined);
    assert.deepEqual(packets.map((p) => p.element.attrs.id), ["m1", "m2", "m3"]);
    assert.deepEqual(packets.map((p) => p.hops), [2, 3, 4]);
    link.sent[0].answer(true);
    assert.deepEqual(await Promise.all(results), [true, true, true]);
    assert.deepEqual(batcher.stats, { packets: 3, batches: 1 });
  },
);

Deno.test(
  "R43 when nobody acknowledges a batch, every packet in it is reported not delivered, so the sender handles each",
  async () => {
    const link = fakeLink();
    const batcher = new FarmBatcher(link.send);
    const results = [batcher.send("node.n2", message(1)), batcher.send("node.n2", message(2))];
    await tick();
    link.sent[0].answer(false);
    assert.deepEqual(await Promise.all(results), [false, false]);
    // A sender that throws counts as "nobody took it", never as a rejection.
    const failing = new FarmBatcher(() => Promise.reject(new Error("connection closed")));
    assert.equal(await failing.send("node.n2", message(3)), false);
  },
);

Deno.test(
  "R43 while maxInFlight batches to a node await their acknowledgement, new packets gather into the next batch, which leaves after",
  async () => {
    const link = fakeLink();
    const batcher = new FarmBatcher(link.send, { maxInFlight: 1 });
    const first = batcher.send("node.n2", message(1));
    await tick();
    const later = [2, 3, 4].map((n) => batcher.send("node.n2", message(n)));
    await tick();
    await tick();
    assert.equal(link.sent.length, 1, "the second batch waits for the first one's answer");
    assert.equal(batcher.queued, 3);
    link.sent[0].answer(true);
    assert.equal(await first, true);
    await tick();
    assert.equal(link.sent.length, 2);
    assert.deepEqual(ids(link.sent[1].data), ["m2", "m3", "m4"]);
    link.sent[1].answer(true);
    assert.deepEqual(await Promise.all(later), [true, true, true]);
    assert.equal(batcher.queued, 0);
  },
);

Deno.test(
  "R43 each node (subject) has batches of its own, and a batch never grows past maxChars while a larger packet goes alone",
  async () => {
    const link = fakeLink();
    const batcher = new FarmBatcher(link.send, { maxChars: 200, maxInFlight: 8 });
    const big = xml(
      "message",
      { to: "bob@localhost", id: "big" },
      xml("body", {}, "x".repeat(300)),
    );
    const results = [
      batcher.send("node.n2", message(1)),
      batcher.send("node.n3", message(2)),
      batcher.send("node.n2", big),
      batcher.send("node.n2", message(3)),
      batcher.send("node.n2", message(4)),
    ];
    await tick();
    const bySubject = (subject: string) =>
      link.sent.filter((s) => s.subject === subject).map((s) => ids(s.data));
    assert.deepEqual(bySubject("node.n2"), [["m1"], ["big"], ["m3", "m4"]]);
    assert.deepEqual(bySubject("node.n3"), [["m2"]]);
    for (const request of link.sent) {
      assert.ok(request.data.length <= 200 || ids(request.data).length === 1);
    }
    for (const request of link.sent) request.answer(true);
    assert.deepEqual(await Promise.all(results), [true, true, true, true, true]);
    assert.throws(() => new FarmBatcher(link.send, { maxInFlight: 0 }), /at least 1/);
  },
);
