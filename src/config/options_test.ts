import assert from "node:assert/strict";
import { optionReader } from "./options.ts";
import { xml } from "../xml/element.ts";

Deno.test("optionReader() reads an attribute, else a child element's text", () => {
  const element = xml(
    "cache",
    { timeout: "30s", name: "primary" },
    xml("timeout", {}, "5m"),
    xml("limit", {}, "  10MiB\n  "),
    xml("port", {}, "5222"),
  );
  const options = optionReader(element);
  assert.equal(options.duration("timeout"), 30_000);
  assert.equal(options.size("limit"), 10 * 1024 * 1024);
  assert.equal(options.integer("port"), 5222);
  assert.equal(options.string("name"), "primary");
});

Deno.test("optionReader() returns the fallback when the option is absent", () => {
  const options = optionReader(xml("cache"));
  assert.equal(options.string("name", "x"), "x");
  assert.equal(options.integer("port", 5269), 5269);
  assert.equal(options.boolean("tls", false), false);
  assert.equal(options.duration("timeout", 1000), 1000);
  assert.equal(options.size("limit", 65536), 65536);
  assert.equal(options.size("limit"), undefined);
});

Deno.test("optionReader() reads booleans, and an empty child element as true", () => {
  const element = xml(
    "c2s",
    { a: "yes", b: "off", c: "TRUE" },
    xml("ssl"),
    xml("plain", {}, "false"),
  );
  const options = optionReader(element);
  assert.equal(options.boolean("a"), true);
  assert.equal(options.boolean("b"), false);
  assert.equal(options.boolean("c"), true);
  assert.equal(options.boolean("ssl"), true);
  assert.equal(options.boolean("plain"), false);
});

Deno.test("optionReader() throws a sentence naming the option and element on a bad value", () => {
  const options = optionReader(
    xml("cache", { timeout: "30", port: "52x", tls: "maybe", limit: "lots" }),
  );
  assert.throws(() => options.duration("timeout"), {
    message: 'Option "timeout" of <cache> is invalid: duration "30" needs a unit; ' +
      "write 30ms, 30s, 30m, 30h or 30d",
  });
  assert.throws(() => options.integer("port"), {
    message: 'Option "port" of <cache> is invalid: "52x" is not a whole number; ' +
      "write digits such as 5222",
  });
  assert.throws(() => options.boolean("tls"), {
    message: 'Option "tls" of <cache> is invalid: "maybe" is not a yes or no; ' +
      "write true or false",
  });
  assert.throws(() => options.size("limit"), {
    message: 'Option "limit" of <cache> is invalid: size "lots" is not a number with a unit; ' +
      "write it like 512B, 256KiB, 10MiB or 1GiB",
  });
});
