import assert from "node:assert/strict";
import { testServer } from "../../server/_testing.ts";
import { addUser } from "../c2s/_testing.ts";
import { ADMIN_TOKEN, boshLogin, httpServerConfig, httpUrl, wsLogin } from "./_testing.ts";
import { exposition, metricsExposition, type MetricsSnapshot } from "./metrics.ts";
import { MEMORY_HEAP_USED, MEMORY_RSS } from "../../adapters/memory/process.ts";
import { xml } from "../../xml/element.ts";

/** Parses the text exposition format strictly enough to catch a malformed line. */
function parse(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const comment = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+)$/.exec(line);
    if (comment) {
      if (comment[1] === "TYPE") {
        assert.match(comment[3], /^(counter|gauge|histogram|summary|untyped)$/);
        types.set(comment[2], comment[3]);
      }
      continue;
    }
    const sample =
      /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (-?[0-9.e+]+|NaN|[+-]Inf)$/
        .exec(line);
    assert.ok(sample, `not a sample line: ${line}`);
    // A histogram's samples are its name with `_bucket` (labelled `le`), `_sum` or `_count`.
    const histogram = /^(.+)_(bucket|sum|count)$/.exec(sample[1]);
    if (histogram && types.get(histogram[1]) === "histogram") {
      if (histogram[2] === "bucket") assert.match(sample[2] ?? "", /[{,]le="/);
    } else assert.ok(types.has(sample[1]), `no TYPE before ${sample[1]}`);
    samples.set(sample[1] + (sample[2] ?? ""), Number(sample[3]));
  }
  return samples;
}

Deno.test("exposition() escapes label values", () => {
  const text = exposition([{
    name: "m",
    help: "A test.",
    type: "gauge",
    samples: [[{ a: 'x"y\\z\nw' }, 1]],
  }]);
  assert.equal(text, '# HELP m A test.\n# TYPE m gauge\nm{a="x\\"y\\\\z\\nw"} 1\n');
  parse(text);
});

Deno.test("/metrics counts connections by transport, logins and failures in the text format", async () => {
  await using world = await testServer(httpServerConfig());
  await addUser(world, "alice");
  await wsLogin(world, "alice", "web");
  await boshLogin(world, "alice", "bosh");
  await assert.rejects(wsLogin(world, "alice", "x", "wrong"), /Login failed/);
  const response = await world.memory.http.fetch(`${httpUrl(world)}/metrics`);
  assert.match(response.headers.get("content-type") ?? "", /^text\/plain; version=0.0.4/);
  const samples = parse(await response.text());
  assert.equal(samples.get('jabberd_c2s_connections{section="c2s",transport="websocket"}'), 2);
  assert.equal(samples.get('jabberd_c2s_connections{section="c2s",transport="bosh"}'), 1);
  assert.equal(samples.get('jabberd_c2s_sessions{section="c2s"}'), 2);
  assert.equal(samples.get('jabberd_c2s_logins_total{section="c2s"}'), 2);
  assert.equal(samples.get('jabberd_c2s_login_failures_total{section="c2s"}'), 1);
  assert.equal(samples.get("jabberd_bosh_sessions"), 1);
  assert.equal(samples.get("jabberd_websocket_opened_total"), 2);
  assert.ok((samples.get('jabberd_tree_hosts{kind="normal"}') ?? 0) >= 1);
  // The router's counters: the logins' packets reached the session manager and c2s.
  assert.ok(
    (samples.get('jabberd_packets_routed_total{kind="normal",section="sessions"}') ?? 0) > 0,
  );
  assert.ok((samples.get('jabberd_packets_routed_total{kind="xdb",section="xdb"}') ?? 0) > 0);
  assert.equal(samples.get('jabberd_packets_routed_total{kind="route",section="http"}'), 0);
  assert.equal(samples.get("jabberd_router_queues"), 0);
  assert.equal(samples.get("jabberd_router_queued_packets"), 0);
  // The session manager's XDB round trips: cumulative buckets ending in +Inf = _count.
  const count = samples.get('jabberd_xdb_latency_seconds_count{section="sessions"}') ?? 0;
  assert.ok(count > 0);
  assert.equal(
    samples.get('jabberd_xdb_latency_seconds_bucket{section="sessions",le="+Inf"}'),
    count,
  );
  assert.equal(
    samples.get('jabberd_xdb_latency_seconds_bucket{section="sessions",le="0.0005"}'),
    count,
  );
  assert.equal(samples.get('jabberd_xdb_latency_seconds_sum{section="sessions"}'), 0);
  assert.equal(samples.get('jabberd_memory_bytes{kind="rss"}'), MEMORY_RSS);
  assert.equal(samples.get('jabberd_memory_bytes{kind="heap"}'), MEMORY_HEAP_USED);
});

Deno.test("/metrics counts bounces by condition", async () => {
  await using world = await testServer(httpServerConfig());
  world.router.deliver(xml("message", { from: "a@localhost/x", to: "b@nowhere.example" }));
  await world.router.idle();
  const response = await world.memory.http.fetch(`${httpUrl(world)}/metrics`);
  const samples = parse(await response.text());
  assert.equal(samples.get('jabberd_bounces_total{condition="service-unavailable"}'), 1);
});

Deno.test("/metrics refuses an address outside the admin ranges", async () => {
  await using world = await testServer(httpServerConfig());
  const response = await world.memory.http.fetch(`${httpUrl(world)}/metrics`, {}, "192.0.2.9");
  assert.equal(response.status, 403);
  await response.body?.cancel();
});

Deno.test("5 the admin API's JSON carries the router and XDB counters /metrics shows, read from the same snapshot", async () => {
  await using world = await testServer(httpServerConfig());
  await addUser(world, "alice");
  await wsLogin(world, "alice", "web");
  world.router.deliver(xml("message", { from: "a@localhost/x", to: "b@nowhere.example" }));
  await world.router.idle();
  const headers = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const admin = await world.memory.http.fetch(`${httpUrl(world)}/admin/metrics`, { headers });
  assert.equal(admin.status, 200);
  const snapshot: MetricsSnapshot = await admin.json();
  const text = await (await world.memory.http.fetch(`${httpUrl(world)}/metrics`)).text();

  // What the JSON says of the router and XDB.
  const routed = (kind: string, section: string) =>
    snapshot.routing?.delivered.find((d) => d.kind === kind && d.section === section)?.count;
  assert.ok((routed("normal", "sessions") ?? 0) > 0);
  assert.ok((routed("xdb", "xdb") ?? 0) > 0);
  assert.deepEqual(snapshot.routing?.bounces, { "service-unavailable": 1 });
  const sessionsXdb = snapshot.xdb.find((x) => x.section === "sessions");
  assert.ok(sessionsXdb && sessionsXdb.count > 0);
  assert.equal(sessionsXdb.counts.reduce((a, b) => a + b, 0), sessionsXdb.count);
  assert.equal(snapshot.c2s[0].sessions, 1);
  assert.equal(snapshot.memory?.rss, MEMORY_RSS);

  // The same snapshot rendered is what /metrics said, sample for sample; only the HTTP request
  // counters moved in between (the two requests themselves).
  const fromJson = parse(metricsExposition(snapshot));
  const fromText = parse(text);
  const comparable = (samples: Map<string, number>) =>
    [...samples].filter(([name]) => !name.startsWith("jabberd_http_requests_total"));
  assert.deepEqual(comparable(fromJson), comparable(fromText));
  assert.ok(comparable(fromText).length > 20);

  // /admin/sections shows each section's share of the same figures.
  const sections = await world.memory.http.fetch(`${httpUrl(world)}/admin/sections`, { headers });
  const { sections: list } = await sections.json();
  const sessions = list.find((s: { id: string }) => s.id === "sessions");
  assert.equal(
    sessions.routed.normal,
    fromText.get(
      'jabberd_packets_routed_total{kind="normal",section="sessions"}',
    ),
  );
  assert.equal(
    sessions.xdb.count,
    fromText.get('jabberd_xdb_latency_seconds_count{section="sessions"}'),
  );
});
