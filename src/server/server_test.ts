import assert from "node:assert/strict";
import { memoryAdapters } from "../adapters/memory/mod.ts";
import { Element } from "../xml/element.ts";
import type { ModuleDefinition } from "./module_api.ts";
import { Server, type ServerPlan } from "./server.ts";

/** A module that records what reaches it and takes everything for its `<host>` text. */
function recorder(seen: string[]): ModuleDefinition {
  return {
    element: "take",
    sections: ["service"],
    register(api) {
      api.addHost(api.config.text());
      api.handle("deliver", (packet) => {
        seen.push(`${api.id}:${packet.element.attrs.to}`);
        return "done";
      });
    },
  };
}

const failing: ModuleDefinition = {
  element: "boom",
  sections: ["service"],
  register() {
    throw new Error("cannot start");
  },
};

function plan(sections: [id: string, host: string, definition: ModuleDefinition][]): ServerPlan {
  return {
    file: "/etc/jabberd/jabberd.xml",
    sections: sections.map(([id, host, definition]) => {
      const moduleElement = new Element(definition.element, {}, [host]);
      return {
        id,
        kind: "service" as const,
        element: new Element("service", { id }, [moduleElement]),
        modules: [{ definition, element: moduleElement }],
      };
    }),
  };
}

function message(to: string): Element {
  return new Element("message", { to, from: "tester@test.org" });
}

Deno.test("Server.reload() keeps unchanged sections, restarts changed ones, starts and stops the rest", async () => {
  const seen: string[] = [];
  const take = recorder(seen);
  const { adapters } = memoryAdapters();
  const server = new Server({ adapters, fallbackLog: () => {} });
  await server.start(plan([["a", "a.org", take], ["b", "b.org", take], ["c", "c.org", take]]));
  const [a, b] = server.sections();

  const summary = await server.reload(
    plan([["a", "a.org", take], ["b", "b2.org", take], ["d", "d.org", take]]),
  );
  assert.deepEqual(summary, {
    started: ["d"],
    stopped: ["c"],
    restarted: ["b"],
    unchanged: ["a"],
  });
  const running = server.sections();
  assert.equal(running.find((s) => s.id === "a"), a, "the unchanged section is the same object");
  assert.notEqual(running.find((s) => s.id === "b"), b);

  for (const to of ["x@a.org", "x@b2.org", "x@d.org"]) server.router.deliver(message(to));
  assert.deepEqual(seen, ["a:x@a.org", "b:x@b2.org", "d:x@d.org"]);
  assert.deepEqual(server.router.tree.match("normal", "c.org"), []);
  assert.deepEqual(server.router.tree.match("normal", "b.org"), []);
  await server.stop();
});

Deno.test("Server.start() keeps the other sections running when one fails to start", async () => {
  const seen: string[] = [];
  const { adapters } = memoryAdapters();
  const logs: string[] = [];
  const server = new Server({ adapters, fallbackLog: (p) => logs.push(p.element.text()) });
  await server.start(plan([["bad", "bad.org", failing], ["good", "good.org", recorder(seen)]]));
  assert.deepEqual(server.sections().map((s) => s.id), ["good"]);
  assert.match(logs.join("\n"), /Section bad failed to start and was stopped: cannot start/);
  server.router.deliver(message("x@good.org"));
  assert.deepEqual(seen, ["good:x@good.org"]);
  await server.stop();
});

Deno.test("Server.stop() stops every section and removes its hosts", async () => {
  const { adapters } = memoryAdapters();
  const server = new Server({ adapters, fallbackLog: () => {} });
  await server.start(plan([["a", "a.org", recorder([])]]));
  await server.stop();
  assert.deepEqual(server.sections(), []);
  assert.deepEqual(server.router.tree.match("normal", "a.org"), []);
});
