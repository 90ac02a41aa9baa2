import assert from "node:assert/strict";
import { Packet } from "../../tree/packet.ts";
import { xml } from "../../xml/element.ts";
import { currentCause, withCause } from "./causes.ts";

const presence = () =>
  new Packet(
    xml("route", { to: "a@localhost/r", from: "c2s/1" }, xml("presence", { type: "probe" })),
  );
const message = () =>
  new Packet(xml("route", { to: "a@localhost/r", from: "c2s/1" }, xml("message", {}, "hi")));

Deno.test("withCause() makes the packet the cause while its handler runs, and restores the outer one", () => {
  const outer = presence();
  const inner = message();
  withCause(outer, () => {
    assert.equal(currentCause(), outer);
    withCause(inner, () => assert.equal(currentCause(), inner));
    assert.equal(currentCause(), outer);
  });
  assert.equal(currentCause(), undefined);
});

Deno.test("withCause() keeps a non-message's cause across awaits, without leaking it", async () => {
  const packet = presence();
  const later = withCause(packet, async () => {
    await new Promise((resolve) => setTimeout(resolve, 1));
    return currentCause();
  });
  assert.equal(currentCause(), undefined);
  assert.equal(await later, packet);
});

Deno.test("withCause() carries a message's cause only while its handler runs synchronously", async () => {
  const packet = message();
  const later = withCause(packet, async () => {
    assert.equal(currentCause(), packet);
    await new Promise((resolve) => setTimeout(resolve, 1));
    return currentCause();
  });
  // No AsyncLocalStorage context per message: after an await it counts from 0 (R22).
  assert.equal(await later, undefined);
});
