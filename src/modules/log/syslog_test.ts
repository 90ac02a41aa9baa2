import assert from "node:assert/strict";
import type { Connection } from "../../adapters/types.ts";
import type { ValidationContext } from "../../server/module_api.ts";
import { xml } from "../../xml/element.ts";
import { formatSyslog, SEVERITIES, syslogModule } from "./syslog.ts";
import { logSection } from "./_testing.ts";

const HEADER = { facility: 16, hostname: "node1", appName: "jabberd", procId: "42" };

Deno.test("formatSyslog() writes an RFC 5424 message with PRI = facility * 8 + severity", () => {
  const time = Date.UTC(2024, 4, 17, 8, 30, 5);
  assert.equal(
    formatSyslog(HEADER, "warn", time, "line"),
    "<132>1 2024-05-17T08:30:05.000Z node1 jabberd 42 - - line",
  );
  assert.equal(formatSyslog(HEADER, "alert", time, "x").slice(0, 5), "<129>");
  assert.equal(formatSyslog(HEADER, "record", time, "x").slice(0, 5), "<133>", "unknown: notice");
  assert.deepEqual(Object.values(SEVERITIES), [7, 6, 5, 4, 3, 1]);
});

Deno.test("<syslog> sends each line over UDP to the configured server", async () => {
  const setup = await logSection(`<syslog host="127.0.0.1" port="1514" facility="local1"/>`);
  const received: string[] = [];
  const server = await setup.memory.datagrams.bind(
    { hostname: "127.0.0.1", port: 1514 },
    (data) => received.push(new TextDecoder().decode(data)),
  );
  setup.log("error", "cannot reach the database");
  setup.log("info", "second");
  for (let i = 0; i < 100 && received.length < 2; i++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  // local1 (17) * 8 + error (3) = 139; the header names this machine and process.
  assert.deepEqual(received, [
    "<139>1 2024-05-17T08:30:05.000Z memory-host jabberd 999 - - " +
    "2024-05-17T08:30:05.000Z example.org error cannot reach the database",
    "<142>1 2024-05-17T08:30:05.000Z memory-host jabberd 999 - - " +
    "2024-05-17T08:30:05.000Z example.org info second",
  ]);
  assert.deepEqual(setup.fallback, []);
  await setup.stop();
  await server.close();
});

Deno.test("<syslog> reports a UDP server whose name does not resolve once on standard error", async () => {
  const { log, stop, memory } = await logSection(`<syslog host="syslog.nowhere.test"/>`);
  log("info", "a");
  log("info", "b");
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(memory.output.stderr, [
    "Cannot send to syslog at syslog.nowhere.test:514: Cannot resolve syslog.nowhere.test\n",
  ]);
  await stop();
});

Deno.test("<syslog protocol=tcp> frames messages by octet count (RFC 6587)", async () => {
  const setup = await logSection(`<syslog host="127.0.0.1" port="1514" protocol="tcp"/>`);
  let data = "";
  let connection: Connection | undefined;
  const listener = await setup.memory.net.listen({ hostname: "127.0.0.1", port: 1514 }, (c) => {
    connection = c;
    c.onData((chunk) => data += new TextDecoder().decode(chunk));
  });
  setup.log("info", "héllo");
  setup.log("debug", "second");
  for (let i = 0; i < 100 && !data.includes("second"); i++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  const frames = data.match(/^(\d+) (<134>1 [^]*?héllo)(\d+) (<135>1 [^]*second)$/);
  assert.ok(frames, data);
  const bytes = (text: string) => new TextEncoder().encode(text).length;
  assert.equal(Number(frames[1]), bytes(frames[2]));
  assert.equal(Number(frames[3]), bytes(frames[4]));
  await setup.stop();
  connection?.close();
  await listener.close();
});

Deno.test("<syslog> reports an unreachable TCP server once on standard error", async () => {
  const { log, stop, memory } = await logSection(`<syslog port="1514" protocol="tcp"/>`);
  log("info", "a");
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setTimeout(resolve, 0));
  log("info", "b");
  memory.clock.advance(60_000);
  log("info", "c");
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(memory.output.stderr.length, 1);
  assert.match(memory.output.stderr[0], /^Cannot send to syslog at 127\.0\.0\.1:1514: /);
  await stop();
});

Deno.test("syslogModule.validate() checks facility, port and protocol", () => {
  const problems: string[] = [];
  const context: ValidationContext = {
    problem: (_at, message) => problems.push(message),
    warning: () => {},
  };
  syslogModule.validate!(xml("syslog", { facility: "local0", port: "514" }), context);
  assert.deepEqual(problems, []);
  syslogModule.validate!(
    xml("syslog", { facility: "local9", port: "70000", protocol: "tls" }),
    context,
  );
  assert.equal(problems.length, 3);
  assert.match(problems[0], /^Option "facility" of <syslog> is invalid: "local9" is not known/);
  assert.match(problems[1], /^Option "port" of <syslog> is invalid: /);
  assert.equal(
    problems[2],
    'Option "protocol" of <syslog> is invalid: "tls" is not known here; write udp or tcp',
  );
});
