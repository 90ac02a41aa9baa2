import assert from "node:assert/strict";
import { testServer } from "../../server/_testing.ts";
import { addUser } from "../c2s/_testing.ts";
import { boshLogin, httpServerConfig, httpUrl, wsLogin } from "./_testing.ts";
import { exposition } from "./metrics.ts";

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
    assert.ok(types.has(sample[1]), `no TYPE before ${sample[1]}`);
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
});

Deno.test("/metrics refuses an address outside the admin ranges", async () => {
  await using world = await testServer(httpServerConfig());
  const response = await world.memory.http.fetch(`${httpUrl(world)}/metrics`, {}, "192.0.2.9");
  assert.equal(response.status, 403);
  await response.body?.cancel();
});
