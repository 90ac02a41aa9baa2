/** Tests of the component link rules: stanzas only, and `from` within the component's hosts. */
import assert from "node:assert/strict";
import { StreamError } from "../util/errors.ts";
import { xml } from "../xml/element.ts";
import { addressAllowed, checkComponentStanza } from "./component_rules.ts";

Deno.test("checkComponentStanza() lets stanzas through and refuses xdb, log and route", () => {
  for (const name of ["message", "presence", "iq"]) checkComponentStanza(xml(name));
  for (const name of ["xdb", "log", "route", "handshake"]) {
    assert.throws(
      () => checkComponentStanza(xml(name)),
      (error) => error instanceof StreamError && error.condition === "unsupported-stanza-type",
    );
  }
});

Deno.test("addressAllowed() matches exact hosts, subdomain wildcards and * like the tree", () => {
  const hosts = ["bot.example.org", "*.muc.example.org"];
  assert.equal(addressAllowed("bot.example.org", hosts), true);
  assert.equal(addressAllowed("user@BOT.example.org./res", hosts), true);
  assert.equal(addressAllowed("room@a.muc.example.org/nick", hosts), true);
  assert.equal(addressAllowed("muc.example.org", hosts), false);
  assert.equal(addressAllowed("juliet@example.org", hosts), false);
  assert.equal(addressAllowed("evilbot.example.org", hosts), false);
  assert.equal(addressAllowed("", hosts), false);
  assert.equal(addressAllowed("anything.example", ["*"]), true);
});
