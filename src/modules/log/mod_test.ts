import assert from "node:assert/strict";
import { logModules } from "./mod.ts";
import { logSection } from "./_testing.ts";

Deno.test("jabberd 1.4's elogger section writes alerts to error.log and stderr only", async () => {
  const { memory, log, stop } = await logSection(
    `<logtype>alert</logtype><format>%d: [%t] (%h): %s</format><file>error.log</file><stderr/>`,
  );
  log("notice", "started");
  log("alert", "cannot bind 0.0.0.0:5222", "example.org");
  await stop();
  const line = "2024-05-17T08:30:05.000Z: [alert] (example.org): cannot bind 0.0.0.0:5222\n";
  assert.equal(memory.files.files.get("/etc/jabberd/error.log"), line);
  assert.deepEqual(memory.output.stderr, [line]);
});

Deno.test("logModules lists one definition per log element, each for log sections only", () => {
  assert.deepEqual(logModules.map((m) => m.element), [
    "format",
    "logtype",
    "stderr",
    "stdout",
    "file",
    "to",
    "syslog",
  ]);
  for (const definition of logModules) assert.deepEqual(definition.sections, ["log"]);
});
