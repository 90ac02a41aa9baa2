/** Tests of `<uplink/>`: the default route, used only when no other host matches (R32). */
import assert from "node:assert/strict";
import { memoryAdapters } from "../../adapters/memory/mod.ts";
import type { ModuleDefinition, ValidationContext } from "../../server/module_api.ts";
import { Section } from "../../server/section.ts";
import type { Packet } from "../../tree/packet.ts";
import { Router } from "../../tree/router.ts";
import { xml } from "../../xml/element.ts";
import { host } from "./host.ts";
import { uplink } from "./uplink.ts";

const recorder = (seen: Packet[]): ModuleDefinition => ({
  element: "recorder",
  sections: ["service", "xdb", "log"],
  register(api) {
    api.handle("deliver", (packet) => {
      seen.push(packet);
      return "done";
    });
  },
});

Deno.test("R32 <uplink/> gets the packets of its kinds that no exact, wildcard or * host takes", async () => {
  const { adapters } = memoryAdapters();
  const router = new Router();
  const start = async (id: string, kind: "service" | "xdb", hostText?: string) => {
    const seen: Packet[] = [];
    const section = new Section({ id, kind, router, adapters, configDir: "." });
    await section.load(recorder(seen), xml("recorder"));
    if (hostText !== undefined) await section.load(host, xml("host", {}, hostText));
    return { section, seen };
  };
  const farm = await start("farm", "service");
  await farm.section.load(uplink, xml("uplink"));
  const local = await start("sm", "service", "example.org");
  const wild = await start("muc", "service", "*.example.org");
  router.deliver(xml("message", { to: "a@example.org" }));
  router.deliver(xml("message", { to: "room@muc.example.org" }));
  router.deliver(xml("message", { to: "a@elsewhere.example" }));
  router.deliver(xml("route", { to: "a@elsewhere.example/r" }));
  assert.deepEqual(local.seen.map((p) => p.to), ["a@example.org"]);
  assert.deepEqual(wild.seen.map((p) => p.to), ["room@muc.example.org"]);
  assert.deepEqual(farm.seen.map((p) => p.kind), ["normal", "route"]);
  // A * host outranks the uplink; the uplink is only for the section's own kinds.
  const star = await start("star", "service", "*");
  router.deliver(xml("message", { to: "a@elsewhere.example" }));
  assert.equal(star.seen.length, 1);
  assert.equal(farm.seen.length, 2);
  assert.deepEqual(router.tree.match("xdb", "elsewhere.example"), []);
  await farm.section.stop();
  await star.section.stop();
  assert.deepEqual(router.tree.match("normal", "elsewhere.example"), []);
});

Deno.test("uplink.validate() refuses content", () => {
  const found: string[] = [];
  const context: ValidationContext = {
    problem: (_at, message) => found.push(message),
    warning: (_at, message) => found.push(message),
  };
  uplink.validate?.(xml("uplink", {}, xml("x")), context);
  assert.deepEqual(found, ["<uplink/> takes no content"]);
});
