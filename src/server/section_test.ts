/**
 * Tests of a running section: which packets reach it, dynamic hosts, the logger, XDB through the
 * tree, and stopping (ROUTING.md R7, R24, R25, R27, R29 and the log format).
 */
import assert from "node:assert/strict";
import { memoryAdapters } from "../adapters/memory/mod.ts";
import type { HandlerResult } from "../tree/handler.ts";
import type { Packet } from "../tree/packet.ts";
import { Router } from "../tree/router.ts";
import { StanzaError } from "../util/errors.ts";
import { type Element, xml } from "../xml/element.ts";
import type { ModuleApi, ModuleDefinition, SectionKind } from "./module_api.ts";
import { resolvePath, Section } from "./section.ts";

/** A router, memory adapters, and a way to start sections with a module that records. */
function setup(xdbTimeoutMs = 1000) {
  const memory = memoryAdapters();
  const fallback: Packet[] = [];
  const router = new Router({ fallbackLog: (packet) => fallback.push(packet) });
  const start = async (
    id: string,
    kind: SectionKind,
    hosts: string[] = [],
    answer: (packet: Packet, api: ModuleApi) => HandlerResult = () => "done",
  ) => {
    const section = new Section({
      id,
      kind,
      router,
      adapters: memory.adapters,
      configDir: "/etc/jabberd",
      xdbTimeoutMs,
    });
    const seen: Packet[] = [];
    let api: ModuleApi | undefined;
    const recorder: ModuleDefinition = {
      element: "recorder",
      sections: ["service", "xdb", "log"],
      register(given) {
        api = given;
        for (const host of hosts) given.addHost(host);
        given.handle("deliver", (packet) => {
          seen.push(packet);
          return answer(packet, given);
        });
      },
    };
    await section.load(recorder, xml("recorder"));
    return { section, seen, api: api! };
  };
  return { memory, router, fallback, start };
}

Deno.test("R7 a section's id is a host for normal packets and its own kinds only", async () => {
  const { router, start } = setup();
  const logger = await start("logger", "log", ["*"]);
  const store = await start("store", "xdb", ["*"]);
  const sm = await start("sm", "service");
  router.deliver(xml("message", { to: "sm" }));
  router.deliver(xml("route", { to: "sm/1", from: "u@h/r" }));
  assert.deepEqual(sm.seen.map((p) => p.kind), ["normal", "route"]);
  // Log lines and xdb requests about the section's id go to the log and xdb sections.
  sm.api.log.info("started");
  router.deliver(xml("xdb", { type: "get", to: "sm", from: "c2s", ns: "x", id: "1" }));
  assert.equal(sm.seen.length, 2);
  assert.deepEqual(logger.seen.map((p) => p.element.text()), ["started"]);
  assert.deepEqual(store.seen.map((p) => p.to), ["sm"]);
  // A log or xdb section is a host for normal packets too: replies come back to it.
  router.deliver(xml("message", { to: "store" }));
  assert.equal(store.seen.at(-1)?.kind, "normal");
});

Deno.test("R24 api.addHost() and api.removeHost() change routing while the section runs", async () => {
  const { router, start } = setup();
  const s2s = await start("s2s", "service");
  const store = await start("store", "xdb");
  s2s.api.addHost("remote.example");
  router.deliver(xml("message", { to: "a@remote.example" }));
  router.deliver(xml("route", { to: "a@remote.example/r" }));
  assert.deepEqual(s2s.seen.map((p) => p.kind), ["normal", "route"]);
  // A section registers a host for its own kinds only.
  store.api.addHost("remote.example");
  assert.deepEqual(router.tree.match("xdb", "remote.example"), ["store"]);
  assert.deepEqual(router.tree.match("normal", "remote.example"), ["s2s"]);
  s2s.api.removeHost("remote.example");
  assert.deepEqual(router.tree.match("normal", "remote.example"), []);
  assert.deepEqual(router.tree.match("route", "remote.example"), []);
  s2s.api.addUplink();
  assert.deepEqual(router.tree.match("normal", "anything.example"), ["s2s"]);
});

Deno.test("api.servesHost() asks the tree: its own hosts yes, its id, the uplink and others' hosts no", async () => {
  const { start } = setup();
  const sm = await start("sm", "service", ["example.org", "*.example.net"]);
  const s2s = await start("s2s", "service", ["*"]);
  const up = await start("up", "service");
  up.api.addUplink();
  assert.equal(sm.api.servesHost("example.org"), true);
  assert.equal(sm.api.servesHost("EXAMPLE.org."), true);
  assert.equal(sm.api.servesHost("chat.example.net"), true);
  assert.equal(sm.api.servesHost("remote.org"), false);
  assert.equal(sm.api.servesHost("sm"), false);
  assert.equal(s2s.api.servesHost("remote.org"), true);
  assert.equal(s2s.api.servesHost("example.org"), false);
  assert.equal(up.api.servesHost("remote.org"), false);
});

Deno.test("api.publishAddress() lists a listener on its section until withdrawn or stopped", async () => {
  const { start } = setup();
  const c2s = await start("c2s", "service");
  const withdraw = c2s.api.publishAddress({ name: "c2s", hostname: "127.0.0.1", port: 5222 });
  c2s.api.publishAddress({ name: "c2s-tls", hostname: "127.0.0.1", port: 5223 });
  assert.deepEqual(c2s.section.addresses().map((a) => a.port), [5222, 5223]);
  withdraw();
  assert.deepEqual(c2s.section.addresses().map((a) => a.name), ["c2s-tls"]);
  await c2s.section.stop();
  assert.deepEqual(c2s.section.addresses(), []);
});

Deno.test("R25 Section.stop() takes hosts away, runs onUnload while the id still answers, then removes the rest", async () => {
  const { memory, router, fallback, start } = setup();
  await start("logger", "log", ["*"]);
  const sm = await start("sm", "service", ["example.org", "*.example.org"]);
  const fired: string[] = [];
  sm.api.hook("presence/bare", () => "first hook");
  sm.api.timer.setTimeout(() => fired.push("timeout"), 100);
  sm.api.timer.setInterval(() => fired.push("interval"), 50);
  // Nothing stores example.org: the request fails (the handler is attached now, as stop() lets
  // the event loop turn while it waits for requests in flight).
  const pendingXdb = assert.rejects(
    sm.api.xdb.get("u@example.org", "jabber:iq:roster"),
    (error) => error instanceof StanzaError,
  );
  memory.clock.advance(50);
  assert.deepEqual(fired, ["interval"]);
  assert.equal(sm.api.fire("presence/bare", {}), "first hook");
  const unloads: string[] = [];
  // What onUnload sees is recorded and checked after stop(): a throw inside a callback would only
  // be logged.
  let during: { instance: boolean; hosts: readonly string[]; hook: unknown } | undefined;
  sm.api.onUnload(() => {
    unloads.push("first");
    during = {
      instance: router.hasInstance("sm"),
      hosts: router.tree.match("normal", "example.org"),
      hook: sm.api.fire("presence/bare", {}),
    };
  });
  sm.api.onUnload(async () => {
    await Promise.resolve();
    unloads.push("second");
  });
  await sm.section.stop();
  assert.deepEqual(unloads, ["second", "first"], "newest first");
  // During onUnload: no host leads to the section any more, but its id and hooks still work.
  assert.deepEqual(during, { instance: true, hosts: [], hook: "first hook" });
  assert.equal(sm.api.fire("presence/bare", {}), undefined);
  assert.equal(memory.clock.pending, 0);
  await pendingXdb;
  for (const kind of ["normal", "route", "xdb", "log"] as const) {
    assert.ok(router.tree.entries(kind).every(([, ids]) => !ids.includes("sm")), kind);
  }
  memory.clock.advance(1000);
  assert.deepEqual(fired, ["interval"]);
  assert.deepEqual(sm.section.handlers().map((h) => h.label), ["xdb-replies"]);
  const before = sm.seen.length;
  router.deliver(xml("message", { from: "x@y", to: "a@example.org" }));
  assert.equal(sm.seen.length, before);
  // Stopping twice is harmless, and the id is free for a new section.
  await sm.section.stop();
  await start("sm", "service");
  assert.equal(router.hasInstance("sm"), true);
  assert.equal(fallback.length, 0);
});

Deno.test("R25 Section.stop() logs an onUnload callback that throws and runs the others", async () => {
  const { start } = setup();
  const logger = await start("logger", "log", ["*"]);
  const sm = await start("sm", "service");
  const ran: string[] = [];
  sm.api.onUnload(() => void ran.push("first"));
  sm.api.onUnload(() => {
    throw new Error("cannot flush");
  });
  await sm.section.stop();
  assert.deepEqual(ran, ["first"]);
  const line = logger.seen.find((p) => p.element.attrs.type === "error");
  assert.match(line?.element.text() ?? "", /cannot flush/);
});

Deno.test("R27 api.xdb requests travel through the tree and replies resolve them by id", async () => {
  const { router, start } = setup();
  const stored = new Map<string, Element>();
  // A tiny storage section answering requests as ROUTING.md's xdb table says.
  await start("store", "xdb", ["*"], (packet, api) => {
    const request = packet.element;
    const key = `${request.attrs.to} ${request.attrs.ns}`;
    const reply = xml("xdb", {
      type: "result",
      to: request.attrs.from!,
      from: request.attrs.to!,
      ns: request.attrs.ns!,
      id: request.attrs.id!,
    });
    if (request.attrs.type === "set") stored.set(key, request.elements[0].clone());
    else if (stored.has(key)) reply.append(stored.get(key)!.clone());
    // Answer later, in reverse order of arrival, to check correlation by id.
    setTimeout(() => api.deliver(reply), request.attrs.ns === "slow" ? 5 : 0);
    return "done";
  });
  // An id with capitals: replies are addressed to it and compared as a host.
  const sm = await start("Sessions", "service");
  await sm.api.xdb.set("u@example.org", "a", xml("item", { n: "1" }));
  const [slow, fast] = await Promise.all([
    sm.api.xdb.get("u@example.org", "slow"),
    sm.api.xdb.get("u@example.org", "a"),
  ]);
  assert.equal(slow, undefined);
  assert.deepEqual([fast?.name, fast?.attrs], ["item", { n: "1" }]);
  await router.idle();
  assert.equal(sm.seen.length, 0, "replies never reach the modules");
});

Deno.test("R29 a section swallows a late XDB reply and logs it at debug", async () => {
  const { memory, router, start } = setup(1000);
  const logger = await start("logger", "log", ["*"]);
  const requests: Packet[] = [];
  await start("store", "xdb", ["*"], (packet) => {
    requests.push(packet);
    return "done";
  });
  const sm = await start("sm", "service");
  const pending = sm.api.xdb.get("u@example.org", "jabber:iq:roster");
  memory.clock.advance(1000);
  await assert.rejects(pending, (error) => {
    assert.ok(error instanceof StanzaError);
    assert.equal(error.condition, "remote-server-timeout");
    return true;
  });
  const request = requests[0].element;
  router.deliver(
    xml("xdb", { type: "result", to: "sm", from: request.attrs.to!, id: request.attrs.id! }),
  );
  assert.equal(sm.seen.length, 0);
  assert.equal(requests.length, 1, "no bounce went back to the storage");
  const debug = logger.seen.find((p) => p.element.attrs.type === "debug");
  assert.match(debug?.element.text() ?? "", /late or unknown XDB reply/);
});

Deno.test("api.log sends <log type from> packets, from the section id unless a host is given", async () => {
  const { start } = setup();
  const logger = await start("logger", "log", ["*"]);
  const sm = await start("sm", "service");
  sm.api.log.warn("disk almost full");
  sm.api.log.log("alert", "about a host", "example.org");
  assert.deepEqual(
    logger.seen.map((p) => [p.element.name, p.element.attrs, p.element.text()]),
    [
      ["log", { type: "warn", from: "sm" }, "disk almost full"],
      ["log", { type: "alert", from: "example.org" }, "about a host"],
    ],
  );
});

Deno.test("api.timer runs callbacks on the adapters' clock and forgets fired timeouts", async () => {
  const { memory, start } = setup();
  const sm = await start("sm", "service");
  const fired: number[] = [];
  sm.api.timer.setTimeout(() => fired.push(sm.api.timer.now()), 10);
  const cancelled = sm.api.timer.setTimeout(() => fired.push(-1), 20);
  sm.api.timer.clearTimeout(cancelled);
  const began = memory.clock.now();
  memory.clock.advance(30);
  assert.deepEqual(fired, [began + 10]);
  assert.equal(memory.clock.pending, 0);
});

Deno.test("resolvePath() joins a config-relative path and keeps absolute paths and URLs", () => {
  assert.equal(resolvePath("/etc/jabberd", "certs/a.pem"), "/etc/jabberd/certs/a.pem");
  assert.equal(resolvePath("/etc/jabberd", "../data"), "/etc/data");
  assert.equal(resolvePath("/etc/jabberd", "./x/./y"), "/etc/jabberd/x/y");
  assert.equal(resolvePath("/etc/jabberd", "/var/lib/x"), "/var/lib/x");
  assert.equal(resolvePath("/etc/jabberd", "https://kv.example/db"), "https://kv.example/db");
  assert.equal(resolvePath("conf", "../../x"), "x");
  assert.equal(resolvePath("", "x"), "x");
});

Deno.test("R25 Section.stop() lets XDB requests in flight get their replies, and what they start, before it cancels", async () => {
  const { start, fallback } = setup();
  const stored: string[] = [];
  // Storage that answers a little later, as a KV file does.
  await start("store", "xdb", ["*"], (packet, api) => {
    const request = packet.element;
    stored.push(`${request.attrs.to} ${request.attrs.ns}`);
    const { from, to, ns, id } = request.attrs as Record<string, string>;
    setTimeout(() => api.deliver(xml("xdb", { type: "result", to: from, from: to, ns, id })), 5);
    return "done";
  });
  const sm = await start("sm", "service");
  const failures: unknown[] = [];
  // Work started without waiting for it, a second request after the first reply (a session's
  // unavailable presence reads the roster, then writes): neither may be cancelled.
  sm.api.onUnload(() => {
    sm.api.xdb.get("u@example.org", "roster")
      .then(() => sm.api.xdb.set("u@example.org", "last", xml("query")))
      .catch((error) => failures.push(error));
  });
  await sm.section.stop();
  assert.deepEqual(failures, []);
  assert.deepEqual(stored, ["u@example.org roster", "u@example.org last"]);
  assert.equal(fallback.length, 0);
});
