/**
 * Test support for the log modules: one `<log id="elogger">` section on a router, over the
 * in-memory adapters, taking log packets for every host (as `<host/>` would). Used by tests only.
 */
import { memoryAdapters } from "../../adapters/memory/mod.ts";
import { optionReader } from "../../config/options.ts";
import type { ModuleDefinition } from "../../server/module_api.ts";
import { Section } from "../../server/section.ts";
import type { Packet } from "../../tree/packet.ts";
import { Router } from "../../tree/router.ts";
import { type Element, xml } from "../../xml/element.ts";

export const SECTION_ID = "elogger";

export async function logSection(modules: [ModuleDefinition, Element][]) {
  const memory = memoryAdapters({ now: Date.UTC(2024, 4, 17, 8, 30, 5) });
  /** Log packets nobody took (the router's fallback, standard error in the server). */
  const fallback: Packet[] = [];
  /** Normal packets for hosts other than the section's, as a session manager would get them. */
  const delivered: Element[] = [];
  const router = new Router({ fallbackLog: (packet) => fallback.push(packet) });
  router.addInstance("sm").add("deliver", (packet) => {
    delivered.push(packet.element);
    return "done";
  });
  router.tree.insert("normal", "example.org", "sm");
  const section = new Section({
    id: SECTION_ID,
    kind: "log",
    router,
    adapters: memory.adapters,
    configDir: "/etc/jabberd",
    options: optionReader,
  });
  router.tree.insert("log", "*", SECTION_ID);
  for (const [definition, element] of modules) await section.load(definition, element);
  const log = (type: string, text: string, from = "example.org") =>
    router.deliver(xml("log", { type, from }, text));
  return { memory, router, section, fallback, delivered, log };
}
