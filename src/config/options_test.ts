import assert from "node:assert/strict";
import type { ValidationContext } from "../server/module_api.ts";
import { type Element, xml } from "../xml/element.ts";
import {
  boolean,
  duration,
  integer,
  list,
  oneOf,
  options,
  port,
  size,
  string,
  value,
} from "./options.ts";

/** Runs `validate` and returns its values and what it reported, each as `<at>: message`. */
function check<T>(
  schema: { validate(element: Element, context: ValidationContext): T },
  element: Element,
) {
  const problems: string[] = [];
  const warnings: string[] = [];
  const context: ValidationContext = {
    problem: (at, message) => problems.push(`<${at.local}>: ${message}`),
    warning: (at, message) => warnings.push(`<${at.local}>: ${message}`),
  };
  const values = schema.validate(element, context);
  return { values, problems, warnings };
}

const CACHE = options({
  timeout: duration(30_000),
  max: integer(10_000, { min: 1 }),
  name: string(),
  tls: boolean(false),
  limit: size(),
});

Deno.test("Options.read() reads an attribute, else a child element's text, the attribute winning", () => {
  const element = xml(
    "cache",
    { timeout: "30s", name: "primary" },
    xml("timeout", {}, "5m"),
    xml("limit", {}, "  10MiB\n  "),
    xml("max", {}, "5222"),
  );
  assert.deepEqual(CACHE.read(element), {
    timeout: 30_000,
    max: 5222,
    name: "primary",
    tls: false,
    limit: 10 * 1024 * 1024,
  });
});

Deno.test("Options.read() returns the defaults for absent options, and for no element at all", () => {
  const defaults = { timeout: 30_000, max: 10_000, name: undefined, tls: false, limit: undefined };
  assert.deepEqual(CACHE.read(xml("cache")), defaults);
  assert.deepEqual(CACHE.read(undefined), defaults);
});

Deno.test("Options.read() reads yes-or-no words, and an empty child element as yes", () => {
  const FLAGS = options({ a: boolean(), b: boolean(), c: boolean(), ssl: boolean(false) });
  assert.deepEqual(FLAGS.read(xml("c2s", { a: "yes", b: "off", c: "TRUE" }, xml("ssl"))), {
    a: true,
    b: false,
    c: true,
    ssl: true,
  });
});

Deno.test("Options.read() throws the first problem as a sentence naming the option and element", () => {
  assert.throws(() => CACHE.read(xml("cache", { timeout: "30" })), {
    message: 'Option "timeout" of <cache> is invalid: duration "30" needs a unit; ' +
      "write 30ms, 30s, 30m, 30h or 30d",
  });
  assert.throws(() => CACHE.read(xml("cache", { max: "52x" })), {
    message: 'Option "max" of <cache> is invalid: "52x" is not a whole number; ' +
      "write digits such as 10000",
  });
  assert.throws(() => CACHE.read(xml("cache", { tls: "maybe" })), {
    message: 'Option "tls" of <cache> is invalid: "maybe" is not a yes or no; write true or false',
  });
  assert.throws(() => CACHE.read(xml("cache", { limit: "lots" })), {
    message: 'Option "limit" of <cache> is invalid: size "lots" is not a number with a unit; ' +
      "write it like 512B, 256KiB, 10MiB or 1GiB",
  });
});

Deno.test("Options.validate() reports every problem where it was written, defaults standing in", () => {
  const timeout = xml("timeout", {}, "soon");
  const element = xml("cache", { max: "0", ttl: "5m" }, timeout, xml("size"), xml("name"));
  const { values, problems } = check(CACHE, element);
  assert.deepEqual(problems, [
    '<cache>: <cache> has no attribute "ttl"; its settings are timeout, max, name, tls and limit',
    '<timeout>: Option "timeout" of <cache> is invalid: duration "soon" is not a number with a ' +
    "unit; write it like 250ms, 30s, 5m, 1h or 2d",
    '<cache>: Option "max" of <cache> is invalid: 0 is too small; write 1 or more',
    '<name>: Option "name" of <cache> is empty; write a value or leave it out',
    "<size>: <cache> has no setting <size>; its settings are timeout, max, name, tls and limit",
  ]);
  assert.equal(values.timeout, 30_000);
  assert.equal(values.max, 10_000);
});

Deno.test("Options.validate() reports a value written twice as a child, and accepts namespace declarations", () => {
  const { problems } = check(
    CACHE,
    xml("cache", { xmlns: "jabberd:config:x", "xmlns:a": "b" }, xml("max", {}, "1"), xml("max")),
  );
  assert.deepEqual(problems, ["<max>: <cache> has more than one <max>; keep one"]);
});

Deno.test("Options.validate() checks ranges, ports, words, zero amounts and parsed values", () => {
  const LISTEN = options({
    port: port(undefined, { listen: true }),
    dial: port(5269),
    queue: integer(5, { min: 1, max: 100 }),
    below: integer(5, { max: 10 }),
    tls: oneOf(["starttls", "direct"], "starttls"),
    every: duration(1000, { positive: true }),
    room: size(1024, { positive: true }),
    jid: value((text) => {
      if (!text.includes("@")) {
        throw new Error(`"${text}" is not a user's JID; write one such as a@b`);
      }
      return text.toLowerCase();
    }),
  });
  const good = LISTEN.read(
    xml("listen", { port: "0", queue: "100", tls: "direct", every: "0.5s", jid: "A@B" }),
  );
  assert.deepEqual(good, {
    port: 0,
    dial: 5269,
    queue: 100,
    below: 5,
    tls: "direct",
    every: 500,
    room: 1024,
    jid: "a@b",
  });
  const { problems } = check(
    LISTEN,
    xml("listen", {
      port: "65536",
      dial: "0",
      queue: "101",
      below: "11",
      tls: "ssl",
      every: "0s",
      room: "0",
      jid: "nobody",
    }),
  );
  const reasons = problems.map((problem) => problem.slice(problem.indexOf("invalid: ") + 9));
  assert.deepEqual(reasons, [
    "65536 is out of range; write a port number from 0 to 65535",
    "0 is out of range; write a port number from 1 to 65535",
    "101 is out of range; write a whole number from 1 to 100",
    "11 is too large; write 10 or less",
    '"ssl" is not known here; write starttls or direct',
    '"0s" is zero; write more, such as 30s',
    '"0" is zero; write more, such as 64KiB',
    `"nobody" is not a user's JID; write one such as a@b`,
  ]);
});

Deno.test("duration() takes a bare 0, which means zero in any unit", () => {
  assert.equal(
    options({ interval: duration(300_000) }).read(xml("ping", { interval: "0" })).interval,
    0,
  );
});

Deno.test("Scalar.required() and List.required() report a missing value with the given words", () => {
  const LINK = options({
    secret: string().required("a <secret> shared with the other side"),
    domain: list(string()).required("at least one <domain>"),
  });
  assert.deepEqual(check(LINK, xml("accept")).problems, [
    "<accept>: <accept> needs a <secret> shared with the other side",
    "<accept>: <accept> needs at least one <domain>",
  ]);
  assert.throws(() => LINK.read(xml("accept")), { message: /needs a <secret>/ });
});

Deno.test("list() reads repeated children in order, reporting each wrong one at its place", () => {
  const SM = options({
    admin: list(value((text) => Number(text))),
    disable: list(oneOf(["a", "b"])),
  });
  const element = xml(
    "sm",
    {},
    xml("admin", {}, "1"),
    xml("disable", {}, "c"),
    xml("admin", {}, " 2 "),
    xml("disable", {}, "b"),
  );
  const { values, problems } = check(SM, element);
  assert.deepEqual(values, { admin: [1, 2], disable: ["b"] });
  assert.deepEqual(problems, [
    '<disable>: Option "disable" of <sm> is invalid: "c" is not known here; write a or b',
  ]);
  assert.deepEqual(check(SM, xml("sm", { admin: "1" })).problems, [
    "<sm>: <sm> takes admin as <admin> elements, not as an attribute",
  ]);
});

Deno.test("list() with unique reports a value written twice and keeps the first", () => {
  const C2S = options({ domain: list(value((text) => text.toLowerCase()), { unique: true }) });
  const element = xml(
    "c2s",
    {},
    xml("domain", {}, "a.example"),
    xml("domain", {}, "A.example"),
    xml("domain", {}, "b.example"),
  );
  const { values, problems } = check(C2S, element);
  assert.deepEqual(values.domain, ["a.example", "b.example"]);
  assert.deepEqual(problems, ["<domain>: <c2s> has <domain> a.example twice; keep one"]);
});

Deno.test("options() nests: a child with its own options, its defaults when absent, or undefined when optional", () => {
  const LINK = options({
    queue: options({ max: integer(1000, { min: 1 }), age: duration(60_000) }),
    tls: options({ cert: string().required("a cert file") }).optional(),
    listen: list(options({ port: port(undefined, { listen: true }).required("a port") })),
  });
  assert.deepEqual(LINK.read(xml("accept")), {
    queue: { max: 1000, age: 60_000 },
    tls: undefined,
    listen: [],
  });
  const element = xml(
    "accept",
    {},
    xml("queue", { max: "3" }, xml("age", {}, "30s")),
    xml("tls", { cert: "a.pem" }),
    xml("listen", { port: "5222" }),
    xml("listen", { port: "5223" }),
  );
  assert.deepEqual(LINK.read(element), {
    queue: { max: 3, age: 30_000 },
    tls: { cert: "a.pem" },
    listen: [{ port: 5222 }, { port: 5223 }],
  });
  const bad = xml("accept", {}, xml("queue", { size: "3" }), xml("tls"), xml("listen"));
  assert.deepEqual(check(LINK, bad).problems, [
    '<queue>: <queue> has no attribute "size"; its settings are max and age',
    "<tls>: <tls> needs a cert file",
    "<listen>: <listen> needs a port",
  ]);
});

Deno.test("OptionsSettings.others accepts names other code reads, and lists them", () => {
  const EXEC = options({ queue: integer(1000) }, { others: ["arg", "program"] });
  const element = xml("exec", { program: "./bot" }, xml("arg", {}, "-v"), xml("env"));
  assert.deepEqual(check(EXEC, element).problems, [
    "<env>: <exec> has no setting <env>; its settings are queue, arg and program",
  ]);
  const LOAD = options({ queue: integer(1000) }, { others: true });
  assert.deepEqual(check(LOAD, xml("load", { greeting: "hi" }, xml("color"))).problems, []);
  assert.deepEqual(check(options({}), xml("null", { a: "1" })).problems, [
    '<null>: <null> has no attribute "a"; it takes no settings',
  ]);
});
