import assert from "node:assert/strict";
import { testServer } from "../../server/_testing.ts";
import { parseFragment } from "../../xml/stream_parser.ts";
import { addUser } from "../c2s/_testing.ts";
import { httpServerConfig, httpUrl, wsLogin } from "./_testing.ts";
import { xml } from "../../xml/element.ts";
import { chart, History, latencyQuantile, type Sample, SAMPLE_MS } from "./status_page.ts";

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

Deno.test("the status page puts packet rates on the tree's edges and charts packets and XDB latency", async () => {
  await using world = await testServer(httpServerConfig());
  await addUser(world, "alice");
  await wsLogin(world, "alice", "web");
  world.memory.clock.advance(3 * SAMPLE_MS);
  // Messages to the server's domain (and what they cause) in the last 5 s, 12 times a minute.
  const toSessions = () =>
    world.router.stats().delivered.filter((d) => d.id === "sessions")
      .reduce((sum, d) => sum + d.count, 0);
  const before = toSessions();
  for (let i = 0; i < 6; i++) {
    world.router.deliver(xml("message", { to: "localhost", from: "alice@localhost/web" }));
  }
  await world.router.idle();
  world.memory.clock.advance(SAMPLE_MS / 2);
  const page = await (await world.memory.http.fetch(`${httpUrl(world)}/`)).text();
  const rate = (section: string) =>
    new RegExp(`data-section="${section}">([0-9.]+)/min</text>`).exec(page)?.[1];
  const delivered = toSessions() - before;
  assert.ok(delivered >= 6);
  assert.equal(rate("sessions"), String(delivered * 12));
  assert.ok(rate("xdb") !== undefined, "the edge into the xdb section has its rate");
  assert.match(page, /Packets routed per minute/);
  assert.match(page, /■<\/span> packets: [1-9]/);
  // The logins' XDB round trips fell in an earlier sample: none in the last one.
  assert.match(page, /aria-label="XDB latency \(ms\)"/);
  assert.match(page, /■<\/span> p99: 0</);
});

Deno.test("issue 11 item 3: the status page draws each section's rate once though two edges lead into it, and says seconds under a minute of samples", async () => {
  await using world = await testServer(httpServerConfig());
  world.memory.clock.advance(3 * SAMPLE_MS);
  const page = await (await world.memory.http.fetch(`${httpUrl(world)}/`)).text();
  const tree = page.slice(page.indexOf('aria-label="delivery tree"'));
  // The sm's section is reached by normal and route packets for localhost: two edges.
  const sessions = /<text x="([0-9.]+)" y="([0-9.]+)"[^>]*>sessions &lt;service&gt;<\/text>/
    .exec(tree);
  assert.ok(sessions, "the sessions section is drawn");
  const [, x, y] = sessions.map(Number);
  const into = [...tree.matchAll(/<line x1="[0-9.]+" y1="[0-9.]+" x2="([0-9.]+)" y2="([0-9.]+)"/g)]
    .filter(([, x2, y2]) => Math.abs(Number(x2) - (x - 4)) + Math.abs(Number(y2) - (y - 4)) < 0.01);
  assert.equal(into.length, 2);
  assert.equal(tree.match(/data-section="sessions"/g)?.length, 1);
  assert.match(page, /\(last 30 s\)/);
  assert.doesNotMatch(page, /\(last 0 min\)/);
});

Deno.test("latencyQuantile() reads p50 and p99 from the buckets between two samples", () => {
  const sample = (t: number, xdbLatency: number[]): Sample => ({
    t,
    sessions: 0,
    connections: 0,
    logins: 0,
    failures: 0,
    routed: 0,
    routedTo: {},
    xdbLatency,
  });
  //                       0.5 1  2  5  10 25 50 100 250 1000 +Inf
  const before = sample(0, [5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  const after = sample(SAMPLE_MS, [5, 0, 0, 90, 0, 0, 0, 0, 9, 0, 1]);
  // 100 new round trips: the 50th lies in (2, 5] ms, the 99th in (100, 250], the last in +Inf.
  assert.equal(latencyQuantile(0.5, after, before), 2 + 3 * (50 / 90));
  assert.equal(latencyQuantile(0.99, after, before), 100 + 150 * ((99 - 90) / 9));
  assert.equal(latencyQuantile(1, after, before), 1000);
  assert.equal(latencyQuantile(0.5, before, before), 0);
  assert.equal(latencyQuantile(0.5, before), 0.25);
});
