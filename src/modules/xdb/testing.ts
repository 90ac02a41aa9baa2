/**
 * Test support for the xdb modules: `<xdb>` sections on a router over the in-memory adapters, a
 * raw instance that sends xdb packets and collects replies, and a service section whose module
 * uses `api.xdb` (the real XDB client). Used by tests only.
 */
import { memoryAdapters } from "../../adapters/memory/mod.ts";
import { optionReader } from "../../config/options.ts";
import type { ModuleDefinition, XdbClient } from "../../server/module_api.ts";
import { Section } from "../../server/section.ts";
import { Router } from "../../tree/router.ts";
import { type Element, xml } from "../../xml/element.ts";

export const HOST = "example.org";

export type Loaded = [ModuleDefinition, Element];

export async function xdbWorld(...sections: Loaded[][]) {
  const memory = memoryAdapters({ now: Date.UTC(2024, 4, 17, 8, 30, 5) });
  const logs: Element[] = [];
  const router = new Router({ fallbackLog: (packet) => logs.push(packet.element) });
  /** Replies that came back to the raw instance "raw". */
  const replies: Element[] = [];
  router.addInstance("raw").add("deliver", (packet) => {
    replies.push(packet.element);
    return "done";
  });
  const xdbSections: Section[] = [];
  for (const [index, modules] of sections.entries()) {
    const id = `xdb${index + 1}`;
    const section = new Section({
      id,
      kind: "xdb",
      router,
      adapters: memory.adapters,
      configDir: "/etc/jabberd",
      options: optionReader,
    });
    router.tree.insert("xdb", HOST, id);
    for (const [definition, element] of modules) await section.load(definition, element);
    xdbSections.push(section);
  }
  // A service section whose module hands out its api.xdb, as a session manager would use it.
  const sm = new Section({
    id: "sm",
    kind: "service",
    router,
    adapters: memory.adapters,
    configDir: "/etc/jabberd",
  });
  let client: XdbClient | undefined;
  await sm.load({
    element: "test",
    sections: ["service"],
    register(api) {
      client = api.xdb;
    },
  }, xml("test"));
  /**
   * Sends a raw xdb packet from "raw" and waits until its reply came back (storage answers
   * later, outside the router's bookkeeping) or, for a packet no one answers, a few turns.
   */
  const send = async (attrs: Record<string, string>, child?: Element) => {
    const before = replies.length;
    router.deliver(xml("xdb", { from: "raw", ...attrs }, ...(child ? [child] : [])));
    await repliesReach(before + 1);
  };
  /** Waits (a bounded number of turns) until `count` replies came back to "raw". */
  const repliesReach = async (count: number) => {
    for (let turn = 0; turn < 1000 && replies.length < count; turn++) {
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    await router.idle();
  };
  const stop = async () => {
    await sm.stop();
    for (const section of xdbSections) await section.stop();
  };
  return {
    memory,
    router,
    replies,
    logs,
    sections: xdbSections,
    xdb: client!,
    send,
    repliesReach,
    stop,
  };
}
