/** Tests of `<accept>` and `<connect>` on memory adapters: handshake, rules, queue, node links. */
import assert from "node:assert/strict";
import { memoryAdapters } from "../../adapters/memory/mod.ts";
import type { ModuleDefinition, ValidationContext } from "../../server/module_api.ts";
import { testServer } from "../../server/_testing.ts";
import { Section } from "../../server/section.ts";
import type { Packet } from "../../tree/packet.ts";
import { Router } from "../../tree/router.ts";
import { NS_COMPONENT_ACCEPT, NS_STANZAS_ERRORS } from "../../util/ns.ts";
import { type Element, xml } from "../../xml/element.ts";
import { accept } from "./accept.ts";
import { backoffDelay, connect } from "./connect.ts";
import { host } from "./host.ts";
import {
  ackElement,
  ackHandshake,
  ACKS_ATTR,
  readAck,
  readHandshakeAcks,
} from "../../link/acks.ts";
import { handshakeDigest } from "../../link/handshake.ts";
import { type StreamEnd, StreamLink } from "../../link/stream_link.ts";

const flush = async (rounds = 5) => {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setTimeout(resolve, 0));
};

/** A section that records what reaches it, for the users' side of the tests. */
const recorder = (seen: Packet[], hostName: string): ModuleDefinition => ({
  element: "recorder",
  sections: ["service", "xdb"],
  register(api) {
    api.addHost(hostName);
    api.handle("deliver", (packet) => {
      seen.push(packet);
      return "done";
    });
  },
});

async function world() {
  const world = await testServer(`<jabberd>
    <service id="bot.example.org">
      <host>*.bot.example.org</host>
      <accept><ip>127.0.0.1</ip><port>0</port><secret>s3cret</secret><queue max="3" age="30s"/></accept>
    </service>
  </jabberd>`);
  const users = world.collect("sm", ["example.org"]);
  const bot = world.server.sections().find((section) => section.id === "bot.example.org")!;
  return { ...world.memory, router: world.router, users, bot, port: world.address("accept").port };
}

/** A hand-driven component on the memory net. */
async function component(
  net: ReturnType<typeof memoryAdapters>["net"],
  port: number,
  name = "bot.example.org",
) {
  const conn = await net.connect({ hostname: "127.0.0.1", port });
  const received: Element[] = [];
  const ends: StreamEnd[] = [];
  let id = "";
  const link: StreamLink = new StreamLink(conn, {
    onHeader: (header) => id = header.attrs.id ?? "",
    onElement: (element) => received.push(element),
    onEnd: (end) => ends.push(end),
  });
  link.open({ xmlns: NS_COMPONENT_ACCEPT, to: name });
  await flush();
  return {
    link,
    received,
    ends,
    handshake: async (secret = "s3cret") => {
      link.send(xml("handshake", {}, handshakeDigest(id, secret)));
      await flush();
    },
  };
}

Deno.test("accept: a component with the right secret gets <handshake/> and exchanges stanzas", async () => {
  const w = await world();
  const c = await component(w.net, w.port);
  await c.handshake();
  assert.equal(c.received[0].local, "handshake");
  c.link.send(xml("message", { to: "juliet@example.org", from: "bot.example.org" }, xml("body")));
  c.link.send(
    xml("iq", { to: "juliet@example.org", from: "x@room.bot.example.org", id: "1", type: "get" }),
  );
  c.link.send(xml("presence", { to: "juliet@example.org" })); // no from: stamped
  await flush();
  assert.deepEqual(w.users.map((p) => p.from), [
    "bot.example.org",
    "x@room.bot.example.org",
    "bot.example.org",
  ]);
  w.router.deliver(
    xml("message", { to: "bot.example.org", from: "juliet@example.org/r", id: "m1" }),
  );
  await flush();
  assert.equal(c.received[1].attrs.id, "m1");
  await w.bot.stop();
  await flush();
  assert.equal(c.ends[0].condition, "system-shutdown");
});

Deno.test("accept: a wrong secret gets not-authorized and a close", async () => {
  const w = await world();
  const c = await component(w.net, w.port);
  await c.handshake("wrong");
  assert.equal(c.ends[0].condition, "not-authorized");
  await w.bot.stop();
});

Deno.test("accept: stanzas before the handshake are refused with not-authorized", async () => {
  const w = await world();
  const c = await component(w.net, w.port);
  c.link.send(xml("message", { to: "juliet@example.org", from: "bot.example.org" }));
  await flush();
  assert.equal(c.ends[0].condition, "not-authorized");
  assert.equal(w.users.length, 0);
  await w.bot.stop();
});

Deno.test("accept: a component named for a host not its section's is refused with host-unknown", async () => {
  const w = await world();
  const c = await component(w.net, w.port, "other.example.org");
  assert.equal(c.ends[0].condition, "host-unknown");
  await w.bot.stop();
});

Deno.test("accept: a spoofed from comes back to the component as forbidden and goes nowhere", async () => {
  const w = await world();
  const c = await component(w.net, w.port);
  await c.handshake();
  c.link.send(xml("message", { to: "juliet@example.org", from: "romeo@example.org", id: "s" }));
  c.link.send(xml("route", { to: "juliet@example.org/r", from: "bot.example.org" }));
  await flush();
  assert.equal(w.users.length, 0);
  const error = c.received[1];
  assert.equal(error.attrs.type, "error");
  assert.equal(error.attrs.id, "s");
  assert.ok(error.getChild("error")?.getChild("forbidden", NS_STANZAS_ERRORS));
  assert.equal(c.ends[0].condition, "unsupported-stanza-type");
  await w.bot.stop();
});

Deno.test("accept: packets wait while the component is away, are delivered on return, and bounce on expiry", async () => {
  const w = await world();
  w.router.deliver(
    xml("message", { to: "bot.example.org", from: "juliet@example.org/r", id: "1" }),
  );
  const c = await component(w.net, w.port);
  await c.handshake();
  assert.equal(c.received[1].attrs.id, "1");
  c.link.close();
  await flush();
  for (const id of ["2", "3", "4", "5"]) {
    w.router.deliver(xml("message", { to: "bot.example.org", from: "juliet@example.org/r", id }));
  }
  // max=3: the fourth is refused at once.
  assert.deepEqual(
    w.users.map((p) => [p.element.attrs.id, p.element.getChild("error")?.elements[0].local]),
    [
      ["5", "resource-constraint"],
    ],
  );
  w.clock.advance(30_000);
  assert.deepEqual(w.users.map((p) => p.element.attrs.id), ["5", "2", "3", "4"]);
  assert.ok(
    w.users[1].element.getChild("error")?.getChild("remote-server-timeout", NS_STANZAS_ERRORS),
  );
  await w.bot.stop();
});

Deno.test("accept: a newer connection replaces the live one, which gets conflict", async () => {
  const w = await world();
  const first = await component(w.net, w.port);
  await first.handshake();
  const second = await component(w.net, w.port);
  await second.handshake();
  assert.equal(first.ends[0].condition, "conflict");
  w.router.deliver(
    xml("message", { to: "bot.example.org", from: "juliet@example.org/r", id: "n" }),
  );
  await flush();
  assert.equal(second.received[1].attrs.id, "n");
  await w.bot.stop();
});

Deno.test("connect: dials <accept>, handshakes, queues while down and reconnects with backoff", async () => {
  const w = await world();
  const seen: Packet[] = [];
  // The component's own tree: what the server sends arrives at a recorder for bot.example.org,
  // and what it sends to example.org goes to the <connect> section.
  const componentRouter = new Router();
  const side = new Section({
    id: "component-side",
    kind: "service",
    router: componentRouter,
    adapters: w.adapters,
    configDir: ".",
  });
  await side.load(recorder(seen, "bot.example.org"), xml("recorder"));
  const link = new Section({
    id: "link",
    kind: "service",
    router: componentRouter,
    adapters: w.adapters,
    configDir: ".",
  });
  await link.load(host, xml("host", {}, "example.org"));
  const settings = [
    xml("ip", {}, "127.0.0.1"),
    xml("port", {}, String(w.port)),
    xml("secret", {}, "s3cret"),
    xml("name", {}, "bot.example.org"),
    xml("retry", { min: "1s", max: "4s" }),
  ];
  await link.load(connect, xml("connect", {}, ...settings));
  await flush(10);
  w.router.deliver(
    xml("message", { to: "bot.example.org", from: "juliet@example.org/r", id: "a" }),
  );
  componentRouter.deliver(
    xml("message", { to: "juliet@example.org", from: "bot.example.org", id: "b" }),
  );
  await flush(10);
  assert.deepEqual(seen.map((p) => p.element.attrs.id), ["a"]);
  assert.deepEqual(w.users.map((p) => p.element.attrs.id), ["b"]);
  // The listener goes away: the component side queues, and dials again with backoff.
  await w.bot.stop();
  await flush(10);
  componentRouter.deliver(
    xml("message", { to: "juliet@example.org", from: "bot.example.org", id: "c" }),
  );
  w.clock.advance(1000); // the first retry (within 0.5–1 s) finds nobody listening
  await flush(10);
  const again = new Section({
    id: "bot.example.org",
    kind: "service",
    router: w.router,
    adapters: w.adapters,
    configDir: ".",
  });
  await again.load(accept, xml("accept", {}, ...settings.slice(0, 3)));
  for (let i = 0; i < 8 && w.users.length < 2; i++) {
    w.clock.advance(1000);
    await flush(10);
  }
  assert.deepEqual(w.users.map((p) => p.element.attrs.id), ["b", "c"]);
  await link.stop();
  await again.stop();
});

Deno.test("backoffDelay() grows exponentially to the ceiling with jitter in its upper half", () => {
  assert.equal(backoffDelay(0, 1000, 60_000, () => 0), 500);
  assert.equal(backoffDelay(0, 1000, 60_000, () => 1), 1000);
  assert.equal(backoffDelay(3, 1000, 60_000, () => 1), 8000);
  assert.equal(backoffDelay(30, 1000, 60_000, () => 1), 60_000);
  assert.equal(backoffDelay(1000, 1000, 60_000, () => 0), 30_000);
});

Deno.test("accept.validate() and connect.validate() explain every mistake", () => {
  const found: string[] = [];
  const context: ValidationContext = {
    problem: (_at, message) => found.push(message),
    warning: (_at, message) => found.push(message),
  };
  accept.validate?.(
    xml(
      "accept",
      { link: "mesh" },
      xml("port", {}, "99999"),
      xml("queue", { max: "0" }),
      xml("conflict", {}, "x"),
      xml("bogus"),
    ),
    context,
  );
  assert.deepEqual(found, [
    'Option "link" of <accept> is invalid: "mesh" is not known here; write component or node',
    'Option "port" of <accept> is invalid: 99999 is out of range; write a port number from 0 ' +
    "to 65535",
    "<accept> needs a <secret> shared with the other side",
    'Option "max" of <queue> is invalid: 0 is too small; write 1 or more',
    'Option "conflict" of <accept> is invalid: "x" is not known here; write replace or refuse',
    "<accept> has no setting <bogus>; its settings are link, ip, port, secret, timeout, queue, " +
    "tls and conflict",
  ]);
  found.length = 0;
  connect.validate?.(xml("connect", {}, xml("secret", {}, "x"), xml("timeout", {}, "30")), context);
  assert.equal(found.length, 2);
  assert.match(found[0], /needs the <ip>/);
  assert.match(found[1], /needs a unit/);
});

Deno.test("R48 accept: a plain XEP-0114 component gets no acknowledgements; one that opts in is acknowledged, and its next stream gets what it did not take", async () => {
  const w = await world();
  const plain = await component(w.net, w.port);
  await plain.handshake();
  assert.equal(plain.received[0].attrs[ACKS_ATTR], undefined);
  plain.link.send(xml("message", { to: "juliet@example.org", id: "p1" }));
  await flush();
  assert.equal(w.users.length, 1);
  assert.deepEqual(plain.received.map((e) => e.local), ["handshake"]);
  plain.link.close();
  await flush();

  // A component that speaks R48: the header offers it, the handshake opts in.
  const conn = await w.net.connect({ hostname: "127.0.0.1", port: w.port });
  const received: Element[] = [];
  let header: Element | undefined;
  const link: StreamLink = new StreamLink(conn, {
    onHeader: (h) => header = h,
    onElement: (element) => received.push(element),
    onEnd: () => {},
  });
  link.open({ xmlns: NS_COMPONENT_ACCEPT, to: "bot.example.org" });
  await flush();
  assert.equal(header!.attrs[ACKS_ATTR], "1");
  const firstId = header!.attrs.id;
  link.send(ackHandshake(undefined, handshakeDigest(firstId, "s3cret")));
  await flush();
  assert.deepEqual(readHandshakeAcks(received[0]), { previous: undefined });
  link.send(xml("message", { to: "juliet@example.org", id: "c1" }));
  for (const id of ["m1", "m2"]) {
    w.router.deliver(xml("message", { to: "bot.example.org", from: "juliet@example.org/r", id }));
  }
  await flush();
  assert.equal(readAck(received.find((e) => e.local === "a")!), 1);
  assert.deepEqual(received.filter((e) => e.local === "message").map((e) => e.attrs.id), [
    "m1",
    "m2",
  ]);
  // It took m1 only, then its connection broke.
  link.send(ackElement(1));
  await flush();
  conn.close();
  await flush();

  const next = await w.net.connect({ hostname: "127.0.0.1", port: w.port });
  const again: Element[] = [];
  let secondId = "";
  const second: StreamLink = new StreamLink(next, {
    onHeader: (h) => secondId = h.attrs.id ?? "",
    onElement: (element) => again.push(element),
    onEnd: () => {},
  });
  second.open({ xmlns: NS_COMPONENT_ACCEPT, to: "bot.example.org" });
  await flush();
  second.send(ackHandshake({ id: firstId, h: 1 }, handshakeDigest(secondId, "s3cret")));
  await flush();
  // The server's receipt: it took one packet (c1) on the first stream.
  assert.deepEqual(readHandshakeAcks(again[0]), { previous: { id: firstId, h: 1 } });
  assert.deepEqual(again.slice(1).map((e) => e.attrs.id), ["m2"]);
  // An acknowledgement past what was sent ends the stream.
  second.send(ackElement(5));
  await flush();
  assert.equal(second.ended, true);
  await w.bot.stop();
});
