/** Tests of the link queue: bounded by count and age, and what it drops bounces by the tree's rules. */
import assert from "node:assert/strict";
import { ManualClock } from "../adapters/memory/mod.ts";
import { Packet } from "../tree/packet.ts";
import type { StanzaErrorCondition } from "../util/errors.ts";
import { xml } from "../xml/element.ts";
import { bounceOf, LinkQueue } from "./queue.ts";

function setup(max: number, ageMs: number) {
  const clock = new ManualClock(0);
  const dropped: [string, StanzaErrorCondition][] = [];
  const queue = new LinkQueue({
    max,
    ageMs,
    clock,
    onDrop: (packet, condition) => dropped.push([packet.element.attrs.id, condition]),
  });
  const push = (id: string) =>
    queue.push(new Packet(xml("message", { id, to: "bot.example", from: "a@example.org" })));
  return { clock, dropped, queue, push };
}

Deno.test("LinkQueue.push() refuses a packet beyond max with resource-constraint", () => {
  const { dropped, queue, push } = setup(2, 60_000);
  push("1");
  push("2");
  push("3");
  assert.deepEqual(dropped, [["3", "resource-constraint"]]);
  assert.deepEqual(queue.take().map((p) => p.element.attrs.id), ["1", "2"]);
  assert.equal(queue.size, 0);
});

Deno.test("LinkQueue drops packets older than ageMs with remote-server-timeout, oldest first", () => {
  const { clock, dropped, queue, push } = setup(10, 1000);
  push("1");
  clock.advance(600);
  push("2");
  clock.advance(400);
  assert.deepEqual(dropped, [["1", "remote-server-timeout"]]);
  assert.equal(queue.size, 1);
  clock.advance(599);
  assert.equal(queue.size, 1);
  clock.advance(1);
  assert.deepEqual(dropped.map(([id]) => id), ["1", "2"]);
  // An emptied queue leaves no timer behind; a new packet starts a new one.
  push("3");
  assert.deepEqual(queue.take().map((p) => p.element.attrs.id), ["3"]);
  clock.advance(5000);
  assert.equal(dropped.length, 2);
});

Deno.test("LinkQueue.dropAll() gives every waiting packet up with the condition", () => {
  const { dropped, queue, push } = setup(10, 1000);
  push("1");
  push("2");
  queue.dropAll("service-unavailable");
  assert.deepEqual(dropped, [["1", "service-unavailable"], ["2", "service-unavailable"]]);
});

Deno.test("bounceOf() follows the tree's bounce rules for every kind", () => {
  const message = new Packet(
    xml("message", { id: "m", to: "bot.example", from: "a@example.org/r" }),
    {
      hops: 2,
    },
  );
  const bounce = bounceOf(message, "remote-server-timeout")!;
  assert.equal(bounce.bounced, true);
  assert.equal(bounce.hops, 3);
  assert.equal(bounce.element.attrs.to, "a@example.org/r");
  assert.equal(bounce.element.attrs.type, "error");
  assert.ok(bounce.element.getChild("error")!.getChild("remote-server-timeout"));
  const xdb = bounceOf(
    new Packet(xml("xdb", { type: "get", to: "a@example.org", from: "c2s", ns: "x", id: "1" })),
    "remote-server-timeout",
  )!;
  assert.deepEqual(xdb.element.attrs, {
    type: "error",
    to: "c2s",
    from: "a@example.org",
    ns: "x",
    id: "1",
  });
  assert.equal(xdb.kind, "normal");
  const route = bounceOf(
    new Packet(xml("route", { to: "a@example.org/r", from: "c2s/1" })),
    "remote-server-timeout",
  )!;
  assert.equal(route.kind, "route");
  assert.equal(route.element.attrs.to, "c2s/1");
  // Never bounced: errors, iq results, log lines, bounces, packets without a sender.
  const never = [
    new Packet(xml("message", { type: "error", to: "x", from: "y" })),
    new Packet(xml("iq", { type: "result", to: "x", from: "y", id: "1" })),
    new Packet(xml("log", { type: "info", from: "y" }, "line")),
    new Packet(xml("message", { to: "x", from: "y" }), { bounced: true }),
    new Packet(xml("message", { to: "x" })),
    new Packet(xml("route", { type: "error", to: "x", from: "y" })),
  ];
  for (const packet of never) assert.equal(bounceOf(packet, "remote-server-timeout"), undefined);
});
