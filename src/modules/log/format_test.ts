import assert from "node:assert/strict";
import type { ValidationContext } from "../../server/module_api.ts";
import { type Element, xml } from "../../xml/element.ts";
import { formatModule } from "./format.ts";
import { logSection } from "./_testing.ts";

function problemsOf(element: Element): string[] {
  const problems: string[] = [];
  const context: ValidationContext = {
    problem: (_at, message) => problems.push(message),
    warning: () => {},
  };
  formatModule.validate!(element, context);
  return problems;
}

Deno.test("<format> gives every sink of the section its template", async () => {
  const { memory, log, stop } = await logSection(
    `<format>%d: [%t] (%h): %s</format><stderr/><stdout/>`,
  );
  log("alert", "cannot bind port 5222", "example.org");
  const line = "2024-05-17T08:30:05.000Z: [alert] (example.org): cannot bind port 5222\n";
  assert.deepEqual(memory.output.stderr, [line]);
  assert.deepEqual(memory.output.stdout, [line]);
  await stop();
});

Deno.test("<format> takes the date from the section clock", async () => {
  const { memory, log, stop } = await logSection(`<format>%d %s</format><stderr/>`);
  log("info", "a");
  memory.clock.advance(61_000);
  log("info", "b");
  assert.deepEqual(memory.output.stderr, [
    "2024-05-17T08:30:05.000Z a\n",
    "2024-05-17T08:31:06.000Z b\n",
  ]);
  await stop();
});

Deno.test("formatModule.validate() refuses an unknown field and an empty template", () => {
  assert.deepEqual(problemsOf(xml("format", {}, "%d %h %t %s %%")), []);
  const [unknown] = problemsOf(xml("format", {}, "%d %q"));
  assert.match(unknown, /^Unknown field %q in the format; use %d \(date\)/);
  assert.deepEqual(problemsOf(xml("format")), [
    "<format> is empty; write a template such as %d %h %t %s",
  ]);
});
