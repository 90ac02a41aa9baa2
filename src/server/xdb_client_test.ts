/** Tests of the XDB client: request formats, reply correlation, errors and timeouts (R26–R29). */
import assert from "node:assert/strict";
import { ManualClock } from "../adapters/memory/clock.ts";
import { Packet } from "../tree/packet.ts";
import { StanzaError } from "../util/errors.ts";
import { type Element, xml } from "../xml/element.ts";
import { XdbRequests } from "./xdb_client.ts";

function setup(timeoutMs?: number) {
  const clock = new ManualClock();
  const sent: Element[] = [];
  const client = new XdbRequests({
    from: "sm",
    deliver: (element) => sent.push(element),
    clock,
    timeoutMs,
  });
  /** The reply a storage section would send to a request, as the packet the tree delivers. */
  const reply = (request: Element, type: "result" | "error", ...children: Element[]) =>
    new Packet(
      xml("xdb", {
        type,
        to: request.attrs.from!,
        from: request.attrs.to!,
        ns: request.attrs.ns!,
        id: request.attrs.id!,
      }, ...children),
    );
  return { clock, sent, client, reply };
}

/** The attributes of a request, without its generated id. */
function shape(element: Element) {
  const { id: _id, ...attrs } = element.attrs;
  return { name: element.name, attrs, children: element.elements.map((e) => e.toString()) };
}

Deno.test("R26 XdbRequests sends get, set, insert and remove in the xdb packet format", () => {
  const { sent, client } = setup();
  client.get("u@example.org", "jabber:iq:roster");
  client.set("u@example.org", "vcard-temp", xml("vCard", { xmlns: "vcard-temp" }));
  client.set("u@example.org", "vcard-temp", undefined);
  client.insert("u@example.org", "jabber:iq:roster", xml("item", { jid: "a@b" }), "item?jid=a@b");
  client.insert("example.org", "offline", xml("message"));
  client.remove("u@example.org", "jabber:iq:roster", "item?jid=a@b");
  const common = { to: "u@example.org", from: "sm" };
  assert.deepEqual(
    sent.map(shape),
    [
      { name: "xdb", attrs: { type: "get", ...common, ns: "jabber:iq:roster" }, children: [] },
      {
        name: "xdb",
        attrs: { type: "set", ...common, ns: "vcard-temp" },
        children: ["<vCard xmlns='vcard-temp'/>"],
      },
      { name: "xdb", attrs: { type: "set", ...common, ns: "vcard-temp" }, children: [] },
      {
        name: "xdb",
        attrs: {
          type: "set",
          ...common,
          ns: "jabber:iq:roster",
          action: "insert",
          match: "item?jid=a@b",
        },
        children: ["<item jid='a@b'/>"],
      },
      {
        name: "xdb",
        attrs: { type: "set", to: "example.org", from: "sm", ns: "offline", action: "insert" },
        children: ["<message/>"],
      },
      {
        name: "xdb",
        attrs: {
          type: "set",
          ...common,
          ns: "jabber:iq:roster",
          action: "remove",
          match: "item?jid=a@b",
        },
        children: [],
      },
    ],
  );
  // Every request has its own id, and each is an xdb packet for the owner's host.
  assert.equal(new Set(sent.map((e) => e.attrs.id)).size, sent.length);
  assert.ok(sent.every((e) => new Packet(e).kind === "xdb"));
  assert.equal(new Packet(sent[0]).host, "example.org");
});

Deno.test("R27 XdbRequests matches each reply to its request by id", async () => {
  const { sent, client, reply, clock } = setup();
  const roster = client.get("u@example.org", "jabber:iq:roster");
  const vcard = client.get("u@example.org", "vcard-temp");
  const write = client.set("u@example.org", "private", xml("data"));
  // Replies in reverse order; an unknown id is not taken.
  assert.equal(client.handleReply(reply(sent[2], "result")), true);
  assert.equal(client.handleReply(reply(sent[1], "result", xml("vCard"))), true);
  const unknown = xml("xdb", { type: "result", to: "sm", id: "not-ours" });
  assert.equal(client.handleReply(new Packet(unknown)), false);
  // A request packet (kind xdb) is never taken as a reply, even with a known id.
  const echo = xml("xdb", { type: "get", to: "sm", id: sent[0].attrs.id! });
  assert.equal(client.handleReply(new Packet(echo)), false);
  assert.equal(client.handleReply(reply(sent[0], "result", xml("query"))), true);
  assert.equal(await write, undefined);
  assert.equal((await vcard)?.name, "vCard");
  assert.equal((await roster)?.name, "query");
  // A reply already taken is not taken again; the one timer expires without arming another.
  assert.equal(client.handleReply(reply(sent[0], "result")), false);
  assert.equal(clock.pending, 1);
  clock.advance(10_000);
  assert.equal(clock.pending, 0);
});

Deno.test("R28 XdbRequests rejects a request answered with type=error", async () => {
  const { sent, client, reply } = setup();
  const failed = client.set("u@example.org", "private", xml("data"));
  const bounced = client.get("u@nowhere", "private");
  client.handleReply(reply(sent[0], "error", xml("error", {}, "disk full")));
  await assert.rejects(failed, (error) => {
    assert.ok(error instanceof StanzaError);
    assert.equal(error.condition, "internal-server-error");
    assert.match(error.message, /disk full/);
    return true;
  });
  // The router's bounce of a request nobody stored carries no <error> child.
  client.handleReply(reply(sent[1], "error"));
  await assert.rejects(bounced, StanzaError);
});

Deno.test("R29 XdbRequests times out on the clock and then ignores the late reply", async () => {
  const { sent, client, reply, clock } = setup(5000);
  const pending = client.get("u@example.org", "jabber:iq:roster");
  let settled = false;
  pending.catch(() => settled = true);
  clock.advance(4999);
  await Promise.resolve();
  assert.equal(settled, false);
  clock.advance(1);
  await assert.rejects(pending, (error) => {
    assert.ok(error instanceof StanzaError);
    assert.equal(error.condition, "remote-server-timeout");
    assert.match(error.message, /no reply in 5000 ms/);
    return true;
  });
  assert.equal(client.handleReply(reply(sent[0], "result")), false);
  // The default is 10 s.
  const other = setup();
  const waiting = other.client.get("u@example.org", "x");
  other.clock.advance(10_000);
  await assert.rejects(waiting, /no reply in 10000 ms/);
});

Deno.test("XdbRequests.cancelAll() rejects every request in flight and clears its timers", async () => {
  const { client, clock } = setup();
  const a = client.get("u@example.org", "a");
  const b = client.set("u@example.org", "b", undefined);
  client.cancelAll("Section sm stopped");
  await assert.rejects(a, /Section sm stopped/);
  await assert.rejects(b, /Section sm stopped/);
  assert.equal(clock.pending, 0);
});

Deno.test("XdbRequests times each request out at its own deadline with one timer, left armed between requests", async () => {
  const { sent, client, reply, clock } = setup(1000);
  const first = client.get("u@example.org", "a");
  clock.advance(400);
  const second = client.get("u@example.org", "b");
  let secondSettled = false;
  second.catch(() => secondSettled = true);
  assert.equal(clock.pending, 1);
  client.handleReply(reply(sent[0], "result"));
  await first;
  clock.advance(600);
  await Promise.resolve();
  assert.equal(secondSettled, false);
  clock.advance(399);
  await Promise.resolve();
  assert.equal(secondSettled, false);
  clock.advance(1);
  await assert.rejects(second, /XDB get for u@example.org \(b\) got no reply in 1000 ms/);
  assert.equal(clock.pending, 0);
  // Answered requests set no timer of their own: the one timer, left armed when the last reply
  // came, covers the next request and expires without arming another once nothing is in flight.
  const third = client.get("u@example.org", "c");
  assert.equal(clock.pending, 1);
  client.handleReply(reply(sent[2], "result"));
  await third;
  const fourth = client.get("u@example.org", "d");
  client.handleReply(reply(sent[3], "result"));
  await fourth;
  assert.equal(clock.pending, 1, "still the one timer");
  clock.advance(1000);
  assert.equal(clock.pending, 0);
});

Deno.test("XdbRequests.latency records each answered round trip on the clock, not timeouts", async () => {
  const { sent, client, reply, clock } = setup(5_000);
  const fast = client.get("u@example.org", "a");
  const slow = client.get("u@example.org", "b");
  const failed = client.get("u@example.org", "c");
  const lost = client.get("u@example.org", "d");
  clock.advance(3);
  client.handleReply(reply(sent[0], "result"));
  clock.advance(297);
  client.handleReply(reply(sent[1], "result"));
  client.handleReply(reply(sent[2], "error"));
  await fast;
  await slow;
  await assert.rejects(failed, StanzaError);
  clock.advance(5_000);
  await assert.rejects(lost, /got no reply/);
  // Buckets 0.5 1 2 5 10 25 50 100 250 1000 +Inf: 3 ms in "5", 300 ms twice in "1000".
  assert.deepEqual(client.latency.counts, [0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0]);
  assert.equal(client.latency.count, 3);
  assert.equal(client.latency.sum, 603);
});
