import assert from "node:assert/strict";
import { DnsTable } from "../../adapters/memory/mod.ts";
import { candidatesFor, orderSrv } from "./resolve.ts";

const srv = (target: string, priority: number, weight: number, port = 5269) => ({
  target,
  port,
  priority,
  weight,
});

Deno.test("orderSrv() orders by priority, lowest first", () => {
  const ordered = orderSrv([srv("c", 30, 0), srv("a", 10, 0), srv("b", 20, 0)], () => 0);
  assert.deepEqual(ordered.map((r) => r.target), ["a", "b", "c"]);
});

Deno.test("orderSrv() draws within a priority by weight (RFC 2782)", () => {
  const records = [srv("light", 10, 10), srv("heavy", 10, 90)];
  // Running sums are light 10, heavy 100: a draw of 0.05 * 100 picks light, 0.5 heavy.
  assert.deepEqual(orderSrv(records, () => 0.05).map((r) => r.target), ["light", "heavy"]);
  assert.deepEqual(orderSrv(records, () => 0.5).map((r) => r.target), ["heavy", "light"]);
  let heavyFirst = 0;
  let seed = 1;
  const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
  for (let i = 0; i < 1000; i++) if (orderSrv(records, random)[0].target === "heavy") heavyFirst++;
  assert.ok(heavyFirst > 850 && heavyFirst < 950, `heavy first ${heavyFirst} times in 1000`);
});

Deno.test("orderSrv() puts weight 0 after the weighted records of its priority", () => {
  const ordered = orderSrv([srv("zero", 10, 0), srv("some", 10, 5)], () => 0);
  assert.deepEqual(ordered.map((r) => r.target), ["some", "zero"]);
});

Deno.test("R37 candidatesFor() merges _xmpps-server (direct TLS) and _xmpp-server records", async () => {
  const dns = new DnsTable()
    .setSrv("_xmpps-server._tcp.example.org", [srv("tls.example.org.", 5, 0, 5270)])
    .setSrv("_xmpp-server._tcp.example.org", [
      srv("backup.example.org.", 20, 0),
      srv("xmpp.example.org.", 10, 0),
    ]);
  assert.deepEqual(await candidatesFor("example.org", dns, undefined, () => 0), [
    { host: "tls.example.org", port: 5270, tls: "direct" },
    { host: "xmpp.example.org", port: 5269, tls: "starttls" },
    { host: "backup.example.org", port: 5269, tls: "starttls" },
  ]);
});

Deno.test("R37 candidatesFor() falls back to the domain on 5269 without SRV records", async () => {
  assert.deepEqual(await candidatesFor("plain.example", new DnsTable(), undefined), [
    { host: "plain.example", port: 5269, tls: "starttls" },
  ]);
});

Deno.test("R37 candidatesFor() gives nothing for a lone '.' target (no service, RFC 2782)", async () => {
  const dns = new DnsTable().setSrv("_xmpp-server._tcp.none.example", [srv(".", 0, 0)]);
  assert.deepEqual(await candidatesFor("none.example", dns, undefined), []);
});

Deno.test("R37 candidatesFor() takes a <route> pin over DNS", async () => {
  const dns = new DnsTable().setSrv("_xmpp-server._tcp.pinned.example", [srv("x.example", 0, 0)]);
  assert.deepEqual(
    await candidatesFor("pinned.example", dns, { host: "10.0.0.9", port: 5270, tls: "direct" }),
    [{ host: "10.0.0.9", port: 5270, tls: "direct" }],
  );
});
