/**
 * A small tree for the tests of `<load>`, `<exec>` and `<fork>`: a router with a client section
 * that records what reaches `client.example`, an XDB section that stores in a Map, and log lines
 * collected in order.
 */
import { memoryAdapters } from "../../adapters/memory/mod.ts";
import type { Adapters } from "../../adapters/types.ts";
import { optionReader } from "../../config/options.ts";
import type { ModuleDefinition } from "../../server/module_api.ts";
import { Section } from "../../server/section.ts";
import type { Packet } from "../../tree/packet.ts";
import { Router } from "../../tree/router.ts";
import { Element, xml } from "../../xml/element.ts";

export interface TestTreeOptions {
  adapters?: Adapters;
  configDir?: string;
}

export async function testTree(options: TestTreeOptions = {}) {
  const memory = memoryAdapters();
  const adapters = options.adapters ?? memory.adapters;
  const logs: string[] = [];
  const received: Packet[] = [];
  const router = new Router({
    fallbackLog: (packet) => logs.push(`${packet.element.attrs.type}: ${packet.element.text()}`),
  });
  const configDir = options.configDir ?? new URL(".", import.meta.url).pathname.slice(0, -1);
  const section = (id: string, kind: "service" | "xdb" = "service") =>
    new Section({ id, kind, router, adapters, configDir, options: optionReader });
  const client = section("client");
  await client.load({
    element: "recorder",
    sections: ["service"],
    register(api) {
      api.addHost("client.example");
      api.handle("deliver", (packet) => {
        received.push(packet);
        return "done";
      });
    },
  }, xml("recorder"));
  const store = new Map<string, Element>();
  const xdb = section("xdb", "xdb");
  await xdb.load({
    element: "store",
    sections: ["xdb"],
    register(api) {
      api.addHost("*");
      api.handle("deliver", (packet) => {
        const request = packet.element;
        const key = `${request.attrs.to}|${request.attrs.ns}`;
        const reply = new Element("xdb", {
          type: "result",
          to: request.attrs.from ?? "",
          from: request.attrs.to ?? "",
          ns: request.attrs.ns ?? "",
          id: request.attrs.id ?? "",
        });
        if (request.attrs.type === "set") {
          const data = request.elements[0];
          if (data) store.set(key, data);
          else store.delete(key);
        } else {
          const data = store.get(key);
          if (data) reply.append(data.clone());
        }
        api.deliver(reply, packet);
        return "done";
      });
    },
  }, xml("store"));
  return {
    memory,
    adapters,
    router,
    logs,
    received,
    store,
    configDir,
    /** A service section for `host` running `definition` with `element`. */
    async service(id: string, host: string, definition: ModuleDefinition, element: Element) {
      const s = section(id);
      await s.load({
        element: "host",
        sections: ["service"],
        register: (api) => api.addHost(host),
      }, xml("host"));
      await s.load(definition, element);
      return s;
    },
    /** Sends a message from the client to `to`. */
    send(to: string, body: string, from = "alice@client.example/r") {
      router.deliver(xml("message", { to, from }, xml("body", {}, body)));
    },
    bodies(): string[] {
      return received.map((p) => p.element.getChildText("body") ?? `<${p.element.name}>`);
    },
  };
}

/** Waits until `condition` holds, polling; fails after `ms` (a bound, not a timed assertion). */
export async function waitFor(
  condition: () => boolean,
  what: string,
  ms = 20_000,
): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`Gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
