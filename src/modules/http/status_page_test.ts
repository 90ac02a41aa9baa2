import assert from "node:assert/strict";
import { testServer } from "../../server/_testing.ts";
import { parseFragment } from "../../xml/stream_parser.ts";
import { addUser } from "../c2s/_testing.ts";
import { httpServerConfig, httpUrl, wsLogin } from "./_testing.ts";
import { chart, History, SAMPLE_MS } from "./status_page.ts";

Deno.test("the status page draws the tree, counts sessions and charts the last hour, without script", async () => {
  await using world = await testServer(httpServerConfig());
  await addUser(world, "alice");
  await wsLogin(world, "alice", "web");
  world.memory.clock.advance(3 * SAMPLE_MS);
  const response = await world.memory.http.fetch(`${httpUrl(world)}/`);
  assert.match(response.headers.get("content-type") ?? "", /^text\/html/);
  const page = await response.text();
  assert.doesNotMatch(page, /<script/i);
  assert.match(page, /<b id="sessions">1<\/b> session\(s\) online/);
  assert.match(page, /<b id="sections">4<\/b> sections/);
  assert.match(page, /websocket 1/);
  assert.match(page, /<td>alice@localhost\/web<\/td><td>websocket<\/td>/);
  // The tree: kinds, the host, the sections and their handlers as SVG text nodes.
  const svg = page.slice(
    page.indexOf('<svg width="840"'),
    page.indexOf("</svg>", page.indexOf('<svg width="840"')) + 6,
  );
  const texts = parseFragment(svg).getChildren("text").map((t) => t.text());
  for (
    const expected of [
      "normal",
      "xdb",
      "localhost",
      "sessions <service>",
      "c2s <service>",
      "deliver kv",
    ]
  ) {
    assert.ok(texts.includes(expected), `${expected} in ${texts.join(" | ")}`);
  }
  // Four samples (start + three): the sessions line reaches 1.
  assert.match(page, /■<\/span> sessions: 1/);
  assert.match(page, /<meta http-equiv="refresh" content="10">/);
});

Deno.test("the status page is refused outside the admin ranges", async () => {
  await using world = await testServer(httpServerConfig());
  const response = await world.memory.http.fetch(`${httpUrl(world)}/`, {}, "192.0.2.1");
  assert.equal(response.status, 403);
  await response.body?.cancel();
});

Deno.test("History keeps one hour of samples and chart() plots them", () => {
  const history = new History();
  const c2s = {
    id: "c2s",
    domains: [],
    stanzaSize: 0,
    accept() {},
    tls: () => ({ default: { cert: "", key: "" } }),
    streams: () => [{ route: "c2s/1", jid: "a@b/c", remote: "::1", transport: "tcp", since: 0 }],
    kick: () => 0,
    counters: { logins: 3, loginFailures: 1, refused: 0 },
  };
  for (let i = 0; i < 400; i++) history.take(i * SAMPLE_MS, [c2s]);
  assert.equal(history.samples.length, 360);
  assert.equal(history.samples[0].t, 40 * SAMPLE_MS);
  const svg = chart("x", history.samples, [{ name: "s", color: "#000", value: (s) => s.sessions }]);
  assert.match(svg, /last 60 min/);
  assert.equal(
    parseFragment(svg.slice(svg.indexOf("<svg"), svg.indexOf("</svg>") + 6))
      .getChild("polyline")!.attrs.points.split(" ").length,
    360,
  );
});
