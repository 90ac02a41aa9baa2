import assert from "node:assert/strict";
import type { ValidationContext } from "../../server/module_api.ts";
import { type Element, xml } from "../../xml/element.ts";
import { acceptedTypes, logtypeModule } from "./logtype.ts";
import { logSection } from "./_testing.ts";

function problemsOf(element: Element): string[] {
  const problems: string[] = [];
  const context: ValidationContext = {
    problem: (_at, message) => problems.push(message),
    warning: () => {},
  };
  logtypeModule.validate!(element, context);
  return problems;
}

const ALL = ["debug", "info", "notice", "warn", "error", "alert"];

async function written(...logtypes: Element[]): Promise<string[]> {
  const { memory, log, stop } = await logSection(`${logtypes.join("")}<stderr/>`);
  for (const type of ALL) log(type, "x");
  await stop();
  return memory.output.stderr.map((line) => line.split(" ")[2]);
}

Deno.test("<logtype>warn</logtype> lets only warn lines reach the sinks", async () => {
  assert.deepEqual(await written(xml("logtype", {}, "warn")), ["warn"]);
});

Deno.test("several <logtype> elements in one section add up", async () => {
  assert.deepEqual(
    await written(xml("logtype", {}, "warn"), xml("logtype", {}, "alert")),
    ["warn", "alert"],
  );
});

Deno.test("<logtype min=notice/> takes notice and every more severe level", async () => {
  assert.deepEqual(await written(xml("logtype", { min: "notice" })), [
    "notice",
    "warn",
    "error",
    "alert",
  ]);
});

Deno.test("an empty <logtype/> takes every level", async () => {
  assert.deepEqual(await written(xml("logtype")), ALL);
});

Deno.test("<logtype> answers skip: a filtered line does not reach the section's sinks", async () => {
  const { memory, log, stop, fallback } = await logSection(`<logtype>error</logtype><stderr/>`);
  log("debug", "noise");
  assert.deepEqual(memory.output.stderr, []);
  // The filter's skip settles a log packet: the fallback (stderr) does not get it either.
  assert.equal(fallback.length, 0);
  await stop();
});

Deno.test("acceptedTypes() reads a list separated by spaces or commas", () => {
  assert.deepEqual([...acceptedTypes(xml("logtype", {}, "warn, error alert")) as Set<string>], [
    "warn",
    "error",
    "alert",
  ]);
});

Deno.test("logtypeModule.validate() refuses a level that does not exist", () => {
  assert.deepEqual(problemsOf(xml("logtype", {}, "warn")), []);
  assert.deepEqual(problemsOf(xml("logtype", {}, "record")), [
    'Unknown log type "record"; use one of debug, info, notice, warn, error, alert',
  ]);
  assert.deepEqual(problemsOf(xml("logtype", { min: "fatal" })), [
    'Unknown log type "fatal"; use one of debug, info, notice, warn, error, alert',
  ]);
});
