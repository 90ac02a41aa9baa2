import assert from "node:assert/strict";
import { memoryAdapters } from "../adapters/memory/mod.ts";
import { Element } from "../xml/element.ts";
import { type ModuleDefinition, SERVER_STOPPING } from "./module_api.ts";
import { ListenError, Server, type ServerPlan } from "./server.ts";

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

Deno.test("Server.stop() runs every section's server-stopping hooks and waits for them before any section stops", async () => {
  const events: string[] = [];
  let finish!: () => void;
  const slow = new Promise<void>((resolve) => finish = resolve);
  const stopping = (name: string, wait?: Promise<void>): ModuleDefinition => ({
    element: "stopping",
    sections: ["service"],
    register(api) {
      api.hook(SERVER_STOPPING, async () => {
        events.push(`${name} stopping`);
        await wait;
        events.push(`${name} stopping done`);
      });
      // A second hook of the same section runs too, though the first returned a promise.
      api.hook(SERVER_STOPPING, () => void events.push(`${name} second hook`), -1);
      api.onUnload(() => void events.push(`${name} unloaded`));
    },
  });
  const { adapters } = memoryAdapters();
  const server = new Server({ adapters, fallbackLog: () => {} });
  await server.start(plan([["a", "a.org", stopping("a", slow)], ["b", "b.org", stopping("b")]]));
  const stopped = server.stop();
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.deepEqual(events, [
    "a stopping",
    "a second hook",
    "b stopping",
    "b second hook",
    "b stopping done",
  ]);
  finish();
  await stopped;
  assert.deepEqual(events.slice(5), ["a stopping done", "b unloaded", "a unloaded"]);
});

Deno.test("Server.stop() stops anyway when a server-stopping hook does not finish in time", async () => {
  const memory = memoryAdapters();
  const logs: string[] = [];
  const server = new Server({
    adapters: memory.adapters,
    fallbackLog: (packet) => logs.push(packet.element.text()),
    stoppingTimeoutMs: 5_000,
  });
  const stuck: ModuleDefinition = {
    element: "stuck",
    sections: ["service"],
    register(api) {
      api.hook(SERVER_STOPPING, () => new Promise(() => {}));
    },
  };
  await server.start(plan([["stuck", "stuck.org", stuck]]));
  const stopped = server.stop();
  await new Promise((resolve) => setTimeout(resolve, 0));
  memory.clock.advance(5_000);
  await stopped;
  assert.deepEqual(server.sections(), []);
  assert.match(logs.join("\n"), /section\(s\) stuck did not finish their server-stopping work/);
});

/** A module that listens on `<listener>`'s port, as c2s and `<accept>` do. */
const listener: ModuleDefinition = {
  element: "listener",
  sections: ["service"],
  async register(api) {
    const port = Number(api.config.text());
    const bound = await api.adapters.net.listen({ hostname: "127.0.0.1", port }, () => {});
    api.onUnload(() => bound.close());
  },
};

Deno.test("Server.start() fails naming the port when a listener cannot bind, and stops what it started", async () => {
  const memory = memoryAdapters();
  const busy = await memory.net.listen({ hostname: "127.0.0.1", port: 5222 }, () => {});
  const seen: string[] = [];
  const server = new Server({ adapters: memory.adapters, fallbackLog: () => {} });
  await assert.rejects(
    server.start(plan([["first", "a.org", recorder(seen)], ["c2s", "5222", listener]])),
    (error) =>
      error instanceof ListenError && error.port === 5222 &&
      error.message ===
        "Port 5222 is already in use, probably by another jabberd or XMPP server; " +
          "find it with `ss -ltnp 'sport = :5222'`",
  );
  assert.deepEqual(server.sections(), [], "nothing is left running");
  await busy.close();
});

Deno.test("Server.start() with keepGoing runs without the listener that cannot bind", async () => {
  const memory = memoryAdapters();
  const busy = await memory.net.listen({ hostname: "127.0.0.1", port: 5222 }, () => {});
  const logs: string[] = [];
  const server = new Server({
    adapters: memory.adapters,
    fallbackLog: (packet) => logs.push(packet.element.text()),
    keepGoing: true,
  });
  await server.start(plan([["first", "a.org", recorder([])], ["c2s", "5222", listener]]));
  assert.deepEqual(server.sections().map((section) => section.id), ["first"]);
  assert.match(logs.join("\n"), /Section c2s failed to start and was stopped: Port 5222 is/);
  await server.stop();
  await busy.close();
});
