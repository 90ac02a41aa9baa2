import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import type { Connection } from "../../adapters/types.ts";
import type { ValidationContext } from "../../server/module_api.ts";
import { xml } from "../../xml/element.ts";
import { formatSyslog, SEVERITIES, syslogModule } from "./syslog.ts";
import { logSection } from "./testing.ts";

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
  const server = createSocket("udp4");
  const received = new Promise<string>((resolve) => {
    server.on("message", (message) => resolve(new TextDecoder().decode(message)));
  });
  await new Promise<void>((resolve) => server.bind(0, "127.0.0.1", () => resolve()));
  const port = server.address().port;
  const { log, section, fallback } = await logSection([
    [syslogModule, xml("syslog", { host: "127.0.0.1", port: String(port), facility: "local1" })],
  ]);
  try {
    log("error", "cannot reach the database");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const line = await Promise.race([
      received,
      new Promise<string>((_, reject) => {
        timer = setTimeout(() => reject(new Error("No syslog datagram arrived")), 10_000);
      }),
    ]);
    clearTimeout(timer);
    // local1 (17) * 8 + error (3) = 139.
    assert.match(
      line,
      /^<139>1 2024-05-17T08:30:05\.000Z \S+ jabberd \d+ - - 2024-05-17T08:30:05\.000Z example\.org error cannot reach the database$/,
    );
    assert.deepEqual(fallback, []);
  } finally {
    await section.stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

Deno.test("<syslog protocol=tcp> frames messages by octet count (RFC 6587)", async () => {
  const setup = await logSection([
    [syslogModule, xml("syslog", { host: "127.0.0.1", port: "1514", protocol: "tcp" })],
  ]);
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
  await setup.section.stop();
  connection?.close();
  await listener.close();
});

Deno.test("<syslog> reports an unreachable TCP server once on standard error", async () => {
  const { log, section, memory } = await logSection([
    [syslogModule, xml("syslog", { port: "1514", protocol: "tcp" })],
  ]);
  log("info", "a");
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setTimeout(resolve, 0));
  log("info", "b");
  memory.clock.advance(60_000);
  log("info", "c");
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(memory.output.stderr.length, 1);
  assert.match(memory.output.stderr[0], /^Cannot send to syslog at 127\.0\.0\.1:1514: /);
  await section.stop();
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
  assert.match(problems[0], /^Unknown syslog facility "local9"; use one of kern, /);
  assert.equal(problems[1], 'port="70000" must be a port number from 1 to 65535');
  assert.equal(problems[2], 'protocol="tls" must be udp or tcp');
});
