import assert from "node:assert/strict";
import { xml } from "../../xml/element.ts";
import { stderrModule } from "./stderr.ts";
import { stdoutModule } from "./stdout.ts";
import { logSection } from "./testing.ts";

Deno.test("<stderr/> writes each log packet as one line in the default format", async () => {
  const { memory, fallback, log, section } = await logSection([[stderrModule, xml("stderr")]]);
  log("warn", "slow disk");
  assert.deepEqual(memory.output.stderr, ["2024-05-17T08:30:05.000Z example.org warn slow disk\n"]);
  assert.deepEqual(memory.output.stdout, []);
  assert.deepEqual(fallback, [], "the section took the packet");
  await section.stop();
});

Deno.test("<stderr/> and <stdout/> in one section both get every line", async () => {
  const { memory, log, section } = await logSection([
    [stderrModule, xml("stderr")],
    [stdoutModule, xml("stdout")],
  ]);
  log("info", "hello");
  assert.equal(memory.output.stderr.length, 1);
  assert.deepEqual(memory.output.stdout, memory.output.stderr);
  await section.stop();
});

Deno.test("<stderr/> ignores normal packets that reach the section id", async () => {
  const { memory, router, section, fallback } = await logSection([[stderrModule, xml("stderr")]]);
  router.deliver(xml("message", { to: "elogger", from: "x@example.org", type: "chat" }));
  assert.deepEqual(memory.output.stderr, []);
  assert.deepEqual(fallback, []);
  await section.stop();
});

Deno.test("stderrModule.validate() refuses content", () => {
  const problems: string[] = [];
  stderrModule.validate!(xml("stderr", {}, "x"), {
    problem: (_at, message) => problems.push(message),
    warning: () => {},
  });
  assert.deepEqual(problems, ["<stderr/> takes no content"]);
});
