import assert from "node:assert/strict";
import { parseFragment } from "../../xml/stream_parser.ts";
import { readS2sConfig, validateS2sConfig } from "./config.ts";

/** The shape of docs and tests/federation/: every setting once. */
const FULL = `<s2s xmlns="jabberd:config:s2s">
  <listen ip="127.0.0.1" port="5269"/>
  <listen ip="127.0.0.1" port="5270" tls="direct"/>
  <secret>s3cret</secret>
  <route domain="Prosody.Test" host="127.0.0.2" port="5269"/>
  <tls cert="s2s.pem" key="s2s.key"/>
  <ca>ca.pem</ca>
  <insecure-domain>prosody.test</insecure-domain>
  <require-tls>true</require-tls>
  <idle-timeout>10m</idle-timeout>
  <connect-timeout>10s</connect-timeout>
  <queue max="1000" age="30s"/>
  <limits stanza-size="256KiB" rate="64KiB" connections-per-domain="2"/>
</s2s>`;

function problems(text: string): string[] {
  const found: string[] = [];
  validateS2sConfig(parseFragment(text), {
    problem: (_at: unknown, message: string) => found.push(message),
    warning: () => {},
  } as never);
  return found;
}

Deno.test("readS2sConfig() reads every setting of the documented shape", () => {
  assert.deepEqual(problems(FULL), []);
  const config = readS2sConfig(parseFragment(FULL));
  assert.deepEqual(config.listens, [
    { ip: "127.0.0.1", port: 5269, tls: "starttls" },
    { ip: "127.0.0.1", port: 5270, tls: "direct" },
  ]);
  assert.equal(config.secret, "s3cret");
  assert.deepEqual(config.routes.get("prosody.test"), {
    host: "127.0.0.2",
    port: 5269,
    tls: "starttls",
  });
  assert.deepEqual(config.certificates, [{ host: "", cert: "s2s.pem", key: "s2s.key" }]);
  assert.deepEqual(config.ca, ["ca.pem"]);
  assert.deepEqual([...config.insecureDomains], ["prosody.test"]);
  assert.equal(config.requireTls, true);
  assert.equal(config.idleTimeout, 600_000);
  assert.equal(config.connectTimeout, 10_000);
  assert.deepEqual(config.queue, { max: 1000, age: 30_000 });
  assert.equal(config.limits.stanzaSize, 256 * 1024);
  assert.equal(config.limits.rate, 64 * 1024);
  assert.equal(config.limits.connectionsPerDomain, 2);
});

Deno.test("readS2sConfig() defaults: 5269 on ::, TLS required, no secret (made at start)", () => {
  const config = readS2sConfig(parseFragment(`<s2s xmlns="jabberd:config:s2s"/>`));
  assert.deepEqual(config.listens, [{ ip: "::", port: 5269, tls: "starttls" }]);
  assert.equal(config.secret, undefined);
  assert.equal(config.requireTls, true);
});

Deno.test("validateS2sConfig() reports a domain pinned twice and unknown settings", () => {
  const found = problems(`<s2s xmlns="jabberd:config:s2s">
    <route domain="x.test" host="10.0.0.1"/><route domain="x.test" host="10.0.0.2"/>
    <bogus/>
  </s2s>`);
  assert.ok(found.some((p) => p.includes("pin x.test")), found.join("; "));
  assert.ok(found.some((p) => p.includes("bogus")), found.join("; "));
});
