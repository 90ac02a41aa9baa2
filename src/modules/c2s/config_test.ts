import assert from "node:assert/strict";
import { xml } from "../../xml/element.ts";
import { DEFAULT_LIMITS, parseC2sConfig, readC2sConfig } from "./config.ts";

function problems(...children: ReturnType<typeof xml>[]): string[] {
  const found: string[] = [];
  parseC2sConfig(
    xml("c2s", { xmlns: "jabberd:config:c2s" }, xml("domain", {}, "example.org"), ...children),
    (at, message) => found.push(`<${at.local}> ${message}`),
  );
  return found;
}

Deno.test("readC2sConfig() reads the settings with their defaults", () => {
  const config = readC2sConfig(
    xml(
      "c2s",
      { xmlns: "jabberd:config:c2s" },
      xml("domain", {}, "Example.ORG"),
      xml("listen", { port: "5223", tls: "direct" }),
      xml("limits", { "stanza-size": "64KiB", "auth-timeout": "10s" }),
      xml("register", { from: "127.0.0.0/8 ::1/128", rate: "2" }),
    ),
  );
  assert.deepEqual(config.domains, ["example.org"]);
  assert.deepEqual(config.listens, [{ port: 5223, address: "::", tls: "direct" }]);
  assert.deepEqual(config.limits, {
    ...DEFAULT_LIMITS,
    stanzaSize: 64 * 1024,
    authTimeout: 10_000,
  });
  assert.deepEqual(config.register?.from.map((range) => range.text), ["127.0.0.0/8", "::1/128"]);
  assert.equal(config.register?.rate, 2);
  assert.equal(config.register?.per, 10 * 60_000);
  assert.equal(config.requireEncryption, true);
  assert.equal(config.iterations, 10000);
  const bare = readC2sConfig(xml("c2s", {}, xml("domain", {}, "localhost")));
  assert.deepEqual(bare.listens, [{ port: 5222, address: "::", tls: "starttls" }]);
  assert.equal(bare.register, undefined);
});

Deno.test("parseC2sConfig() reports a misspelt attribute of a setting instead of ignoring it", () => {
  assert.deepEqual(problems(xml("listen", { port: "5222", adress: "::1" })), [
    '<listen> <listen> has no attribute "adress"; its settings are port, address and tls',
  ]);
  assert.deepEqual(problems(xml("scram", { iteration: "4096" })), [
    '<scram> <scram> has no attribute "iteration"; its settings are iterations',
  ]);
});

Deno.test("parseC2sConfig() reports a domain or address listed twice, and a missing domain", () => {
  assert.deepEqual(
    problems(
      xml("domain", {}, "EXAMPLE.org"),
      xml("listen", { port: "5222" }),
      xml("listen", { port: "5222" }),
    ),
    [
      "<domain> <c2s> has <domain> example.org twice; keep one",
      "<c2s> Two <listen> elements use :::5222",
    ],
  );
  const found: string[] = [];
  parseC2sConfig(xml("c2s"), (_at, message) => found.push(message));
  assert.deepEqual(found, [
    "<c2s> needs at least one <domain> naming a host clients may log in to",
  ]);
});

Deno.test('parseC2sConfig() opens no TCP listener with <tcp enabled="false"/> and refuses a <listen> beside it', () => {
  const element = xml(
    "c2s",
    { xmlns: "jabberd:config:c2s" },
    xml("domain", {}, "example.org"),
    xml("tcp", { enabled: "false" }),
  );
  assert.deepEqual(readC2sConfig(element).listens, []);
  assert.deepEqual(problems(xml("tcp", { enabled: "false" })), []);
  assert.deepEqual(problems(xml("tcp", { enabled: "false" }), xml("listen", { port: "5222" })), [
    '<c2s> A <listen> contradicts <tcp enabled="false">: remove one of them',
  ]);
});
