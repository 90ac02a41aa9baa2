/** Tests of `<null/>`: it takes every packet that reaches its section and drops it (R31). */
import assert from "node:assert/strict";
import { memoryAdapters } from "../../adapters/memory/mod.ts";
import type { ValidationContext } from "../../server/module_api.ts";
import { Section } from "../../server/section.ts";
import type { Packet } from "../../tree/packet.ts";
import { Router } from "../../tree/router.ts";
import { xml } from "../../xml/element.ts";
import { nullModule } from "./null.ts";

Deno.test("R31 <null/> takes every packet, so nothing sent to its hosts bounces", async () => {
  const { adapters } = memoryAdapters();
  const back: Packet[] = [];
  const router = new Router({ fallbackLog: (packet) => back.push(packet) });
  const sender = new Section({ id: "sender", kind: "service", router, adapters, configDir: "." });
  await sender.load({
    element: "recorder",
    sections: ["service"],
    register(api) {
      api.addHost("a.example");
      api.handle("deliver", (packet) => {
        back.push(packet);
        return "done";
      });
    },
  }, xml("recorder"));
  const sink = new Section({ id: "sink", kind: "service", router, adapters, configDir: "." });
  await sink.load({
    element: "hosts",
    sections: ["service"],
    register: (api) => api.addHost("sink.example"),
  }, xml("hosts"));
  const message = xml("message", { from: "a@a.example", to: "b@sink.example" });
  // Without <null/> the message bounces; with it, it is taken and dropped.
  router.deliver(message);
  assert.equal(back.length, 1);
  assert.equal(back[0].element.attrs.type, "error");
  await sink.load(nullModule, xml("null"));
  router.deliver(message);
  router.deliver(xml("route", { to: "b@sink.example/r", from: "sender/1" }));
  router.deliver(xml("iq", { type: "get", id: "1", from: "a@a.example", to: "sink.example" }));
  assert.equal(back.length, 1);
});

Deno.test("nullModule.validate() refuses content", () => {
  const found: string[] = [];
  const context: ValidationContext = {
    problem: (_at, message) => found.push(message),
    warning: (_at, message) => found.push(message),
  };
  nullModule.validate?.(xml("null"), context);
  assert.deepEqual(found, []);
  nullModule.validate?.(xml("null", {}, "x"), context);
  assert.deepEqual(found, ["<null/> takes no content"]);
});
