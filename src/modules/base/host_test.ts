/** Tests of `<host>`: the section is registered for an exact name, a wildcard or `*` (R30). */
import assert from "node:assert/strict";
import { memoryAdapters } from "../../adapters/memory/mod.ts";
import { Section } from "../../server/section.ts";
import type { ValidationContext } from "../../server/module_api.ts";
import { Router } from "../../tree/router.ts";
import { type Element, xml } from "../../xml/element.ts";
import { host, hostPatternProblem } from "./host.ts";

function problems(element: Element): string[] {
  const found: string[] = [];
  const context: ValidationContext = {
    problem: (_at, message) => found.push(message),
    warning: (_at, message) => found.push(`warning: ${message}`),
  };
  host.validate?.(element, context);
  return found;
}

Deno.test("R30 <host> registers its section for the pattern it holds, <host/> meaning *", async () => {
  const router = new Router();
  const { adapters } = memoryAdapters();
  const sm = new Section({ id: "sm", kind: "service", router, adapters, configDir: "." });
  await sm.load(host, xml("host", {}, " Example.ORG "));
  await sm.load(host, xml("host", {}, "*.example.org"));
  const store = new Section({ id: "store", kind: "xdb", router, adapters, configDir: "." });
  await store.load(host, xml("host"));
  assert.deepEqual(router.tree.match("normal", "example.org"), ["sm"]);
  assert.deepEqual(router.tree.match("route", "example.org"), ["sm"]);
  assert.deepEqual(router.tree.match("normal", "muc.example.org"), ["sm"]);
  assert.deepEqual(router.tree.match("xdb", "example.org"), ["store"]);
  assert.deepEqual(router.tree.match("xdb", "anything.example"), ["store"]);
  assert.deepEqual(router.tree.match("normal", "anything.example"), []);
  assert.deepEqual(router.tree.match("log", "example.org"), []);
  await sm.stop();
  assert.deepEqual(router.tree.match("normal", "example.org"), []);
});

Deno.test("host.validate() accepts names, wildcards and * and explains what is wrong otherwise", () => {
  for (const ok of ["example.org", "*.example.org", "*", "", "localhost", "[::1]"]) {
    assert.deepEqual(problems(xml("host", {}, ok)), [], ok);
  }
  assert.match(problems(xml("host", {}, "a.*.org"))[0], /leading "\*\." label/);
  assert.match(problems(xml("host", {}, "ex*ample.org"))[0], /leading "\*\." label/);
  assert.match(problems(xml("host", {}, "user@example.org"))[0], /not a valid domain name/);
  assert.match(problems(xml("host", {}, "example.org/res"))[0], /not a valid domain name/);
  assert.match(problems(xml("host", {}, xml("name")))[0], /only a host name as text/);
  assert.equal(hostPatternProblem("*.example.org"), undefined);
});
