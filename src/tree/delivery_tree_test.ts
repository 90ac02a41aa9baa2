/** Tests of host matching in the delivery tree (ROUTING.md R3–R5). */
import assert from "node:assert/strict";
import { DeliveryTree, patternCovers, UPLINK } from "./delivery_tree.ts";

Deno.test("R3 DeliveryTree.match() prefers an exact host, then a wildcard, then *, then the uplink", () => {
  const tree = new DeliveryTree();
  tree.insert("normal", UPLINK, "up");
  assert.deepEqual(tree.match("normal", "a.example.org"), ["up"]);
  tree.insert("normal", "*", "star");
  assert.deepEqual(tree.match("normal", "a.example.org"), ["star"]);
  tree.insert("normal", "*.example.org", "wild");
  assert.deepEqual(tree.match("normal", "a.example.org"), ["wild"]);
  tree.insert("normal", "a.example.org", "exact");
  assert.deepEqual(tree.match("normal", "a.example.org"), ["exact"]);
  // Each level falls back to the next when removed.
  tree.remove("normal", "a.example.org", "exact");
  assert.deepEqual(tree.match("normal", "a.example.org"), ["wild"]);
  tree.remove("normal", "*.example.org", "wild");
  tree.remove("normal", "*", "star");
  assert.deepEqual(tree.match("normal", "a.example.org"), ["up"]);
  tree.remove("normal", UPLINK, "up");
  assert.deepEqual(tree.match("normal", "a.example.org"), []);
  // A packet without an address (host "") is matched only by * or the uplink.
  tree.insert("normal", "*", "star");
  assert.deepEqual(tree.match("normal", ""), ["star"]);
});

Deno.test("R4 DeliveryTree.match() takes the most specific wildcard, for subdomains only", () => {
  const tree = new DeliveryTree();
  tree.insert("normal", "*.example.org", "wide");
  tree.insert("normal", "*.muc.example.org", "narrow");
  assert.deepEqual(tree.match("normal", "room.muc.example.org"), ["narrow"]);
  assert.deepEqual(tree.match("normal", "a.b.muc.example.org"), ["narrow"]);
  assert.deepEqual(tree.match("normal", "muc.example.org"), ["wide"]);
  assert.deepEqual(tree.match("normal", "x.example.org"), ["wide"]);
  // The bare domain is not a subdomain of itself, nor is a name that merely ends alike.
  assert.deepEqual(tree.match("normal", "example.org"), []);
  assert.deepEqual(tree.match("normal", "badexample.org"), []);
  assert.deepEqual(tree.match("normal", "localhost"), []);
});

Deno.test("R5 DeliveryTree keeps one table per kind and compares hosts case-insensitively", () => {
  const tree = new DeliveryTree();
  tree.insert("xdb", "Example.ORG.", "store");
  tree.insert("normal", "*", "sm");
  assert.deepEqual(tree.match("xdb", "example.org"), ["store"]);
  assert.deepEqual(tree.match("normal", "example.org"), ["sm"]);
  assert.deepEqual(tree.match("log", "example.org"), []);
  assert.deepEqual(tree.match("route", "example.org"), []);
  assert.deepEqual(tree.entries("xdb"), [["example.org", ["store"]]]);
});

Deno.test("DeliveryTree.insert() is idempotent and removeInstance() clears an instance everywhere", () => {
  const tree = new DeliveryTree();
  tree.insert("normal", "a.example", "one");
  tree.insert("normal", "a.example", "one");
  tree.insert("normal", "a.example", "two");
  tree.insert("route", "*", "one");
  tree.insert("log", UPLINK, "one");
  assert.deepEqual(tree.match("normal", "a.example"), ["one", "two"]);
  tree.removeInstance("one");
  assert.deepEqual(tree.match("normal", "a.example"), ["two"]);
  assert.deepEqual(tree.entries("route"), []);
  assert.deepEqual(tree.entries("log"), []);
  // Removing what is not there is harmless.
  tree.remove("xdb", "nowhere", "one");
  tree.remove("normal", "a.example", "one");
  assert.deepEqual(tree.match("normal", "a.example"), ["two"]);
});

Deno.test("DeliveryTree.serves() is true for a host an instance registered, never as the uplink", () => {
  const tree = new DeliveryTree();
  tree.insert("normal", "example.org", "sm");
  tree.insert("normal", "*.example.org", "muc");
  tree.insert("normal", "*", "s2s");
  tree.insert("normal", UPLINK, "up");
  assert.equal(tree.serves("normal", "example.org", "sm"), true);
  assert.equal(tree.serves("normal", "room.example.org", "muc"), true);
  assert.equal(tree.serves("normal", "remote.net", "sm"), false);
  assert.equal(tree.serves("normal", "remote.net", "s2s"), true);
  assert.equal(tree.serves("route", "example.org", "sm"), false);
  tree.remove("normal", "*", "s2s");
  // The uplink takes what nobody serves, but serves no host.
  assert.deepEqual(tree.match("normal", "remote.net"), ["up"]);
  assert.equal(tree.serves("normal", "remote.net", "up"), false);
});

Deno.test("patternCovers() matches one pattern alone: exact, subdomains of a wildcard, or *", () => {
  assert.equal(patternCovers("Example.ORG.", "example.org"), true);
  assert.equal(patternCovers("*.example.org", "a.b.example.org"), true);
  assert.equal(patternCovers("*.example.org", "example.org"), false);
  assert.equal(patternCovers("*.example.org", "badexample.org"), false);
  assert.equal(patternCovers("*", "anything"), true);
});
