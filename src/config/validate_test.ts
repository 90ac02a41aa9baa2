import assert from "node:assert/strict";
import type { ModuleDefinition } from "../server/module_api.ts";
import { type Element, xml } from "../xml/element.ts";
import { options, port } from "./options.ts";
import { formatProblem, type Positions } from "./problem.ts";
import { validateConfig } from "./validate.ts";

// Small stand-ins for the real modules: only `element`, `sections` and `validate` matter here.
const register = () => {};
const host: ModuleDefinition = {
  element: "host",
  sections: ["service", "xdb", "log"],
  validate(element, context) {
    if (/\s/.test(element.text().trim())) context.problem(element, "Host has a space");
  },
  register,
};
const nullModule: ModuleDefinition = { element: "null", sections: ["service"], register };
const kv: ModuleDefinition = {
  element: "kv",
  sections: ["xdb"],
  validate(element, context) {
    if (element.text().trim() === "") context.problem(element, "<kv> needs a path");
    if (element.text().endsWith(".tmp")) context.warning(element, "<kv> in a temporary file");
  },
  register,
};
const stderr: ModuleDefinition = { element: "stderr", sections: ["log"], register };
const c2s: ModuleDefinition = {
  element: "jabberd:config:c2s",
  sections: ["service"],
  validate(element, context) {
    options({ port: port() }).validate(element, context);
  },
  register,
};
const broken: ModuleDefinition = {
  element: "broken",
  sections: ["service"],
  validate() {
    throw new Error("Cannot read properties of undefined");
  },
  register,
};
const MODULES = [host, nullModule, kv, stderr, c2s, broken];

/** Gives every element a position: line = its place in document order, column 3. */
function place(root: Element, file = "jabberd.xml"): Positions {
  const positions: Positions = new WeakMap();
  let line = 0;
  const walk = (element: Element) => {
    positions.set(element, { file, line: ++line, column: 3 });
    for (const child of element.elements) walk(child);
  };
  walk(root);
  return positions;
}

/** Validates and returns the problems as `check` prints them. */
function check(root: Element): string[] {
  return validateConfig(root, place(root), MODULES).problems.map(formatProblem);
}

Deno.test("validateConfig() lists the sections and modules of a valid config in load order", () => {
  const root = xml(
    "jabberd",
    {},
    "\n  ",
    xml("service", { id: "sessions" }, xml("host", {}, "example.org"), xml("null")),
    xml("xdb", { id: "xdb" }, xml("host"), xml("kv", {}, "./data/jabberd.kv")),
    xml("log", { id: "elogger" }, xml("stderr")),
    xml("service", { id: "c2s" }, xml("c2s", { xmlns: "jabberd:config:c2s", port: "5222" })),
  );
  const result = validateConfig(root, place(root), MODULES);
  assert.deepEqual(result.problems, []);
  assert.deepEqual(
    result.sections.map((s) => [s.id, s.kind, s.modules.map((m) => m.definition.element)]),
    [
      ["sessions", "service", ["host", "null"]],
      ["xdb", "xdb", ["host", "kv"]],
      ["elogger", "log", ["stderr"]],
      ["c2s", "service", ["jabberd:config:c2s"]],
    ],
  );
  assert.equal(result.sections[3].modules[0].element.attr("port"), "5222");
});

Deno.test("validateConfig() rule: the root element must be <jabberd>", () => {
  assert.deepEqual(check(xml("jabber", {}, xml("service", { id: "sessions" }))), [
    "jabberd.xml:1:3: The root element must be <jabberd>, not <jabber>; put the sections " +
    "inside <jabberd>…</jabberd>",
  ]);
});

Deno.test("validateConfig() rule: the root holds only <service>, <xdb> and <log> sections", () => {
  assert.deepEqual(check(xml("jabberd", {}, xml("pthcsock"), xml("x", { xmlns: "urn:x" }))), [
    "jabberd.xml:2:3: Unknown element <pthcsock> in <jabberd>; sections are <service id>, " +
    "<xdb id> and <log id> (besides one <pidfile>)",
    'jabberd.xml:3:3: Unknown element <x xmlns="urn:x"> in <jabberd>; sections are ' +
    "<service id>, <xdb id> and <log id> (besides one <pidfile>)",
  ]);
});

Deno.test("validateConfig() rule: text outside elements is refused", () => {
  assert.deepEqual(
    check(xml("jabberd", {}, "oops", xml("service", { id: "s" }, " \n ", "localhost"))),
    [
      'jabberd.xml:1:3: Text "oops" is not allowed directly in <jabberd>; settings go inside ' +
      "an element",
      'jabberd.xml:2:3: Text "localhost" is not allowed directly in <service id="s">; ' +
      "settings go inside an element",
    ],
  );
});

Deno.test("validateConfig() rule: every section needs an id", () => {
  assert.deepEqual(check(xml("jabberd", {}, xml("log"), xml("xdb", { id: " " }))), [
    'jabberd.xml:2:3: <log> has no id; give it one, such as <log id="elogger">',
    'jabberd.xml:3:3: <xdb> has no id; give it one, such as <xdb id="xdb">',
  ]);
});

Deno.test("validateConfig() rule: a section id is written like a lowercase host name", () => {
  const ids = ["Sessions", "a b", "-x", "x.", "a..b", "*.example.org"];
  const root = xml("jabberd", {}, ...ids.map((id) => xml("service", { id })));
  const problems = check(root);
  assert.equal(problems.length, ids.length);
  assert.equal(
    problems[0],
    'jabberd.xml:2:3: Section id "Sessions" is not a valid host name; use lowercase letters, ' +
      'digits, "-", "_" and ".", such as "sessions" or "sessions.example.org"',
  );
  const fine = ["c2s", "s2s_1", "conference.example.org", "x-1.y"];
  assert.deepEqual(check(xml("jabberd", {}, ...fine.map((id) => xml("service", { id })))), []);
});

Deno.test("validateConfig() rule: section ids are unique across all kinds", () => {
  const root = xml("jabberd", {}, xml("service", { id: "main" }), xml("log", { id: "main" }));
  assert.deepEqual(check(root), [
    'jabberd.xml:3:3: Section id "main" is already used by <service id="main"> at ' +
    "jabberd.xml:2:3; give each section its own id, as the id is also a host",
  ]);
});

Deno.test("validateConfig() rule: an unknown plain element names the base modules", () => {
  const root = xml("jabberd", {}, xml("service", { id: "s" }, xml("hots", {}, "example.org")));
  assert.deepEqual(check(root), [
    'jabberd.xml:3:3: Unknown element <hots> in <service id="s">; base modules here are: ' +
    "<host>, <null>, <broken>",
  ]);
});

Deno.test("validateConfig() rule: a base module outside the sections it works in", () => {
  const root = xml("jabberd", {}, xml("service", { id: "s" }, xml("kv", {}, "x.kv")));
  assert.deepEqual(check(root), [
    'jabberd.xml:3:3: <kv> does not belong in <service id="s">; it works only in <xdb> sections',
  ]);
});

Deno.test("validateConfig() rule: an unknown namespace is named with the known components", () => {
  const root = xml(
    "jabberd",
    {},
    xml("service", { id: "s" }, xml("c2s", { xmlns: "jabberd:config:c2" })),
  );
  assert.deepEqual(check(root), [
    'jabberd.xml:3:3: Unknown component namespace "jabberd:config:c2" on <c2s> in ' +
    '<service id="s">; components here are: jabberd:config:c2s',
  ]);
});

Deno.test("validateConfig() rule: a component outside the sections it works in", () => {
  const root = xml(
    "jabberd",
    {},
    xml("xdb", { id: "x" }, xml("c2s", { xmlns: "jabberd:config:c2s" })),
  );
  assert.deepEqual(check(root), [
    'jabberd.xml:3:3: <c2s xmlns="jabberd:config:c2s"> does not belong in <xdb id="x">; ' +
    "it works only in <service> sections",
  ]);
});

Deno.test("validateConfig() rule: module validators report problems and warnings in place", () => {
  const root = xml(
    "jabberd",
    {},
    xml("xdb", { id: "x" }, xml("kv"), xml("kv", {}, "a.tmp")),
    xml("service", { id: "c" }, xml("c2s", { xmlns: "jabberd:config:c2s" }, xml("port", {}, "x"))),
  );
  const result = validateConfig(root, place(root), MODULES);
  assert.deepEqual(result.problems.map((p) => [p.severity, formatProblem(p)]), [
    ["error", "jabberd.xml:3:3: <kv> needs a path"],
    ["warning", "jabberd.xml:4:3: warning: <kv> in a temporary file"],
    [
      "error",
      'jabberd.xml:7:3: Option "port" of <c2s> is invalid: "x" is not a whole number; ' +
      "write digits such as 5222",
    ],
  ]);
});

Deno.test("validateConfig() rule: a validator that throws is reported, not fatal", () => {
  const root = xml(
    "jabberd",
    {},
    xml("service", { id: "s" }, xml("broken"), xml("host", {}, "a b")),
  );
  assert.deepEqual(check(root), [
    "jabberd.xml:3:3: The settings of <broken> could not be checked: Cannot read properties " +
    "of undefined",
    "jabberd.xml:4:3: Host has a space",
  ]);
});

Deno.test("validateConfig() rule: two services claiming one host is a warning", () => {
  const root = xml(
    "jabberd",
    {},
    xml("service", { id: "sm" }, xml("host", {}, "example.org"), xml("host")),
    xml("service", { id: "other" }, xml("host", {}, "Example.org")),
    xml("service", { id: "catchall" }, xml("host", {}, "*")),
    // Its id is its host: it claims "sm" too.
    xml("service", { id: "third" }, xml("host", {}, "sm")),
    // xdb and log sections take xdb and log packets only: no clash.
    xml("xdb", { id: "x" }, xml("host", {}, "example.org")),
  );
  const result = validateConfig(root, place(root), MODULES);
  assert.deepEqual(result.problems.map((p) => [p.severity, formatProblem(p)]), [
    [
      "warning",
      'jabberd.xml:6:3: warning: Host "example.org" is also served by <service id="sm"> at ' +
      "jabberd.xml:3:3; both will get every packet for it (remove one if that is not meant)",
    ],
    [
      "warning",
      'jabberd.xml:8:3: warning: Host "*" is also served by <service id="sm"> at ' +
      "jabberd.xml:4:3; both will get every packet for it (remove one if that is not meant)",
    ],
    [
      "warning",
      'jabberd.xml:10:3: warning: Host "sm" is also served by <service id="sm"> at ' +
      "jabberd.xml:2:3; both will get every packet for it (remove one if that is not meant)",
    ],
  ]);
});

Deno.test("validateConfig() rule: a service without <host> is served under its id", () => {
  assert.deepEqual(check(xml("jabberd", {}, xml("service", { id: "c2s" }, xml("null")))), []);
});
