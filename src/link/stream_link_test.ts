/** Tests of StreamLink: headers, elements both ways, and every way a stream ends, reported once. */
import assert from "node:assert/strict";
import { MemoryNet } from "../adapters/memory/mod.ts";
import type { Connection } from "../adapters/types.ts";
import { NS_COMPONENT_ACCEPT } from "../util/ns.ts";
import { type Element, xml } from "../xml/element.ts";
import { type StreamEnd, StreamLink } from "./stream_link.ts";

/** Two connected pipes on the memory net. */
async function pipes(): Promise<{ client: Connection; server: Connection }> {
  const net = new MemoryNet();
  let server: Connection | undefined;
  await net.listen({ hostname: "127.0.0.1", port: 5347 }, (conn) => server = conn);
  const client = await net.connect({ hostname: "127.0.0.1", port: 5347 });
  return { client, server: server! };
}

function recorder() {
  const seen = { headers: [] as Element[], elements: [] as Element[], ends: [] as StreamEnd[] };
  let settle: () => void = () => {};
  const ended = new Promise<void>((resolve) => settle = resolve);
  return {
    seen,
    ended,
    events: {
      onHeader: (header: Element) => seen.headers.push(header),
      onElement: (element: Element) => seen.elements.push(element),
      onEnd: (end: StreamEnd) => {
        seen.ends.push(end);
        settle();
      },
    },
  };
}

/** Lets the memory net deliver what was written (it delivers in microtasks and macrotasks). */
const flush = () => new Promise((resolve) => setTimeout(resolve, 0));

Deno.test("StreamLink carries headers and elements both ways and ends on the peer's close", async () => {
  const { client, server } = await pipes();
  const a = recorder();
  const b = recorder();
  const left = new StreamLink(client, a.events);
  const right = new StreamLink(server, b.events);
  left.open({ xmlns: NS_COMPONENT_ACCEPT, to: "bot.example" });
  right.open({ xmlns: NS_COMPONENT_ACCEPT, from: "bot.example", id: "abc" });
  left.send(xml("handshake", {}, "00ff"));
  right.send("<handshake/>");
  await flush();
  assert.equal(b.seen.headers[0].attrs.to, "bot.example");
  assert.equal(a.seen.headers[0].attrs.id, "abc");
  assert.equal(b.seen.elements[0].text(), "00ff");
  assert.equal(b.seen.elements[0].ns, NS_COMPONENT_ACCEPT);
  assert.equal(a.seen.elements[0].local, "handshake");
  left.close();
  await Promise.all([a.ended, b.ended]);
  assert.deepEqual(a.seen.ends.map((end) => end.by), ["local"]);
  assert.deepEqual(b.seen.ends.map((end) => end.by), ["peer"]);
  assert.equal(right.ended, true);
});

Deno.test("StreamLink.fail() sends the stream error the peer then reports with its condition", async () => {
  const { client, server } = await pipes();
  const a = recorder();
  const b = recorder();
  const left = new StreamLink(client, a.events);
  const right = new StreamLink(server, b.events);
  left.open({ xmlns: NS_COMPONENT_ACCEPT });
  await flush();
  right.fail("not-authorized", "Wrong secret");
  right.fail("conflict"); // a second end is ignored
  await Promise.all([a.ended, b.ended]);
  assert.deepEqual(a.seen.ends, [{
    by: "peer",
    condition: "not-authorized",
    reason: "The peer sent a stream error: not-authorized (Wrong secret)",
  }]);
  assert.deepEqual(b.seen.ends, [{
    by: "local",
    condition: "not-authorized",
    reason: "Wrong secret",
  }]);
});

Deno.test("StreamLink ends with a stream error on broken XML and on a handler's StreamError", async () => {
  const { client, server } = await pipes();
  const b = recorder();
  new StreamLink(server, b.events);
  client.write("<stream:stream xmlns:stream='http://etherx.jabber.org/streams'><a></b>");
  await b.ended;
  assert.equal(b.seen.ends[0].condition, "not-well-formed");

  const second = await pipes();
  const c = recorder();
  new StreamLink(second.server, {
    ...c.events,
    onHeader: () => {
      throw new Error("boom");
    },
  });
  let written = "";
  second.client.onData((chunk) => written += new TextDecoder().decode(chunk));
  second.client.write("<stream:stream xmlns:stream='http://etherx.jabber.org/streams'>");
  await c.ended;
  await flush();
  assert.equal(c.seen.ends[0].condition, "internal-server-error");
  assert.match(written, /<stream:stream .*<stream:error><internal-server-error/);
  assert.match(written, /<\/stream:stream>$/);
});

Deno.test("StreamLink reports a broken pipe once, as the peer's doing", async () => {
  const { client, server } = await pipes();
  const b = recorder();
  const link = new StreamLink(server, b.events);
  client.close();
  await b.ended;
  link.close();
  assert.equal(b.seen.ends.length, 1);
  assert.equal(b.seen.ends[0].by, "peer");
});
