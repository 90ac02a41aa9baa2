import assert from "node:assert/strict";
import { memoryAdapters } from "./mod.ts";

Deno.test("memoryAdapters() wires env, output, signals and DNS to the test's handles", async () => {
  const memory = memoryAdapters({ env: { JABBERD_CONFIG: "/etc/j.xml" }, now: 5000 });
  const { adapters } = memory;
  assert.equal(adapters.env("JABBERD_CONFIG"), "/etc/j.xml");
  assert.equal(adapters.env("MISSING"), undefined);
  memory.env.set("MISSING", "now set");
  assert.equal(adapters.env("MISSING"), "now set");

  adapters.stderr("warning\n");
  adapters.stdout("hello\n");
  assert.deepEqual(memory.output, { stderr: ["warning\n"], stdout: ["hello\n"] });

  let hups = 0;
  const stop = adapters.signals.on("SIGHUP", () => hups++);
  assert.equal(memory.signals.emit("SIGHUP"), 1);
  stop();
  assert.equal(memory.signals.emit("SIGHUP"), 0);
  assert.equal(hups, 1);

  memory.dns.setSrv("_xmpp-server._tcp.example.org", [
    { target: "xmpp.example.org", port: 5269, priority: 0, weight: 5 },
  ]).setAddresses("xmpp.example.org", ["192.0.2.1", "2001:db8::1"]);
  assert.deepEqual(await adapters.dns.resolveSrv("_XMPP-server._tcp.example.org"), [
    { target: "xmpp.example.org", port: 5269, priority: 0, weight: 5 },
  ]);
  assert.deepEqual(await adapters.dns.resolveAddresses("xmpp.example.org"), [
    "192.0.2.1",
    "2001:db8::1",
  ]);
  assert.deepEqual(await adapters.dns.resolveSrv("_xmpp-client._tcp.nowhere.test"), []);
  assert.deepEqual(await adapters.dns.resolveAddresses("127.0.0.1"), ["127.0.0.1"]);

  assert.equal(adapters.clock.now(), 5000);
  assert.deepEqual(adapters.process.selfCommand(["fork-child"]), {
    command: "/memory/jabberd",
    args: ["fork-child"],
  });
  assert.equal(adapters.process.pid(), 999);
  assert.equal(adapters.process.hostname(), "memory-host");
});

Deno.test("memoryAdapters() KV opens of one path share data; :memory: opens do not", async () => {
  const { adapters } = memoryAdapters();
  const first = await adapters.kv.open("data/xdb.sqlite");
  await first.atomic().set(["xdb", "localhost", "romeo"], 1).commit();
  first.close();
  const second = await adapters.kv.open("data/xdb.sqlite");
  assert.equal((await second.get(["xdb", "localhost", "romeo"])).value, 1);
  const scratch = await adapters.kv.open(":memory:");
  assert.equal((await scratch.get(["xdb", "localhost", "romeo"])).value, null);
});
