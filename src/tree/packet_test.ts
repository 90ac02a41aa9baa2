/** Tests of packet kinds and routing hosts (ROUTING.md R1–R2). */
import assert from "node:assert/strict";
import { xml } from "../xml/element.ts";
import { hostOf, kindOf, Packet } from "./packet.ts";

Deno.test("R1 kindOf() decides the kind by the element's name and, for <xdb>, its type", () => {
  assert.equal(kindOf(xml("route", { to: "u@h/r" })), "route");
  assert.equal(kindOf(xml("log", { type: "warn", from: "h" })), "log");
  assert.equal(kindOf(xml("xdb", { type: "get", to: "u@h" })), "xdb");
  assert.equal(kindOf(xml("xdb", { type: "set", to: "u@h" })), "xdb");
  // Replies travel back to the requesting instance as normal packets.
  assert.equal(kindOf(xml("xdb", { type: "result", to: "sm" })), "normal");
  assert.equal(kindOf(xml("xdb", { type: "error", to: "sm" })), "normal");
  assert.equal(kindOf(xml("xdb", { to: "u@h" })), "normal");
  for (const name of ["message", "presence", "iq", "db:result", "db:verify", "other"]) {
    assert.equal(kindOf(xml(name, { to: "h" })), "normal", name);
  }
  assert.equal(new Packet(xml("route", { to: "u@h" })).kind, "route");
});

Deno.test("R2 hostOf() is the domain of to, or of from for a log packet", () => {
  assert.equal(
    hostOf(xml("message", { to: "juliet@Example.ORG./balcony" }), "normal"),
    "example.org",
  );
  assert.equal(hostOf(xml("route", { to: "c2s/42", from: "u@h/r" }), "route"), "c2s");
  assert.equal(hostOf(xml("xdb", { to: "u@h", from: "sm" }), "xdb"), "h");
  assert.equal(
    hostOf(xml("log", { type: "warn", to: "ignored", from: "romeo@Montague.lit" }), "log"),
    "montague.lit",
  );
  assert.equal(hostOf(xml("message", { from: "a@b" }), "normal"), "");
  assert.equal(hostOf(xml("log", { type: "info" }), "log"), "");
  const packet = new Packet(xml("log", { from: "x.example", to: "y.example" }));
  assert.equal(packet.host, "x.example");
  assert.equal(packet.hops, 0);
  assert.equal(packet.bounced, false);
});
