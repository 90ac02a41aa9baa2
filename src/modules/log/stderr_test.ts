import assert from "node:assert/strict";
import { xml } from "../../xml/element.ts";
import { logSection } from "./_testing.ts";
import { stderrModule } from "./stderr.ts";

Deno.test("<stderr/> writes each log packet as one line in the default format", async () => {
  const { memory, fallback, log, stop } = await logSection(`<stderr/>`);
  log("warn", "slow disk");
  assert.deepEqual(memory.output.stderr, ["2024-05-17T08:30:05.000Z example.org warn slow disk\n"]);
  assert.deepEqual(memory.output.stdout, []);
  assert.deepEqual(fallback, [], "the section took the packet");
  await stop();
});

Deno.test("<stderr/> and <stdout/> in one section both get every line", async () => {
  const { memory, log, stop } = await logSection(`<stderr/><stdout/>`);
  log("info", "hello");
  assert.equal(memory.output.stderr.length, 1);
  assert.deepEqual(memory.output.stdout, memory.output.stderr);
  await stop();
});

Deno.test("<stderr/> ignores normal packets that reach the section id", async () => {
  const { memory, router, stop, fallback } = await logSection(`<stderr/>`);
  router.deliver(xml("message", { to: "elogger", from: "x@example.org", type: "chat" }));
  assert.deepEqual(memory.output.stderr, []);
  assert.deepEqual(fallback, []);
  await stop();
});

Deno.test("stderrModule.validate() refuses content", () => {
  const problems: string[] = [];
  stderrModule.validate!(xml("stderr", {}, "x"), {
    problem: (_at, message) => problems.push(message),
    warning: () => {},
  });
  assert.deepEqual(problems, ["<stderr/> takes no content"]);
});
