/** Tests of the router: fan-out, outcomes, bounces, hops and order (ROUTING.md R6–R23). */
import assert from "node:assert/strict";
import { type Element, xml } from "../xml/element.ts";
import { NS_STANZAS_ERRORS } from "../util/ns.ts";
import type { HandlerResult } from "./handler.ts";
import { Packet } from "./packet.ts";
import { Router } from "./router.ts";

/** A router whose fallback log is recorded, with helpers to add recording instances. */
function setup(options: { maxHops?: number } = {}) {
  const fallback: Packet[] = [];
  const router = new Router({ ...options, fallbackLog: (packet) => fallback.push(packet) });
  /** Adds an instance for `hosts` (normal packets) whose one handler records and answers. */
  const instance = (
    id: string,
    hosts: string[],
    answer: (packet: Packet) => HandlerResult | Promise<HandlerResult> = () => "done",
  ) => {
    const seen: Packet[] = [];
    router.addInstance(id).add("deliver", (packet) => {
      seen.push(packet);
      return answer(packet);
    });
    for (const host of hosts) router.tree.insert("normal", host, id);
    return seen;
  };
  return { router, fallback, instance };
}

function condition(element: Element): string | undefined {
  return element.getChild("error")?.elements.find((e) => e.ns === NS_STANZAS_ERRORS)?.local;
}

const message = (from: string, to: string, body = "hi") =>
  xml("message", { from, to, id: "m1" }, xml("body", {}, body));

Deno.test("R6 Router.addInstance() makes the instance id a routable host for every kind", async () => {
  const { router, fallback } = setup();
  const seen: string[] = [];
  router.addInstance("c2s").add("deliver", (packet) => {
    seen.push(packet.kind);
    return "done";
  });
  router.deliver(xml("message", { to: "c2s" }));
  router.deliver(xml("route", { to: "c2s/17", from: "u@h/r" }));
  router.deliver(xml("xdb", { type: "get", to: "C2S", from: "sm", ns: "x", id: "1" }));
  router.deliver(xml("log", { type: "info", from: "c2s" }, "line"));
  assert.deepEqual(seen, ["normal", "route", "xdb", "log"]);
  assert.deepEqual(fallback, []);
  assert.throws(() => router.addInstance("c2s"), /already exists/);
  // Given a list of kinds, the id is a host for those only (what a Section does).
  router.addInstance("store", ["normal", "xdb"]);
  assert.deepEqual(router.tree.match("xdb", "store"), ["store"]);
  assert.deepEqual(router.tree.match("log", "store"), []);
  await router.removeInstance("c2s");
  assert.equal(router.hasInstance("c2s"), false);
  assert.deepEqual(router.tree.match("normal", "c2s"), []);
});

Deno.test("R8 Router.deliver() gives every instance at the winning level one shared packet", () => {
  const { router, instance } = setup();
  const one = instance("one", ["example.org"]);
  const two = instance("two", ["example.org"], () => "pass");
  const wild = instance("wild", ["*.org"]);
  const element = message("a@a.example", "b@example.org");
  router.deliver(element);
  assert.equal(one.length, 1);
  assert.equal(two.length, 1);
  assert.equal(wild.length, 0, "a lower level gets nothing");
  assert.equal(one[0], two[0], "one packet object for every recipient");
  assert.equal(one[0].element, element, "the element is not copied");
});

Deno.test("R33 Router.deliver() gives an xdb request to the first instance that takes it", async (t) => {
  const cases: [HandlerResult[], string[], string | undefined][] = [
    [["skip", "done", "done"], ["s0", "s1"], undefined],
    [["pass", "error", "done"], ["s0", "s1"], "error"],
    [["done", "done"], ["s0"], undefined],
    [["skip", "skip"], ["s0", "s1"], "error"],
  ];
  for (const [answers, reached, reply] of cases) {
    for (const later of [false, true]) {
      await t.step(`${answers.join(", ")}${later ? " (answered later)" : ""}`, async () => {
        const { router } = setup();
        const back: Packet[] = [];
        router.addInstance("sm", ["normal"]).add("deliver", (packet) => {
          back.push(packet);
          return "done";
        });
        const seen: string[] = [];
        answers.forEach((answer, i) => {
          router.addInstance(`s${i}`, ["normal", "xdb"]).add("deliver", () => {
            seen.push(`s${i}`);
            return later ? Promise.resolve(answer) : answer;
          });
          router.tree.insert("xdb", "*", `s${i}`);
        });
        router.deliver(
          xml("xdb", { type: "get", to: "u@example.org", from: "sm", ns: "x", id: "1" }),
        );
        await router.idle();
        assert.deepEqual(
          seen,
          reached,
          "in the order the instances were added, until one takes it",
        );
        assert.deepEqual(back.map((p) => p.element.attrs.type), reply ? [reply] : []);
      });
    }
  }
});

Deno.test("R16 Router.deliver() combines fan-out outcomes: done wins, then error, then the rest", async (t) => {
  const cases: [HandlerResult[], string | undefined][] = [
    [["done", "error"], undefined],
    [["pass", "done"], undefined],
    [["error", "pass"], "internal-server-error"],
    [["skip", "error"], "internal-server-error"],
    [["skip", "pass"], "service-unavailable"],
    [["pass", "pass"], "service-unavailable"],
  ];
  for (const [answers, expected] of cases) {
    for (const later of [false, true]) {
      await t.step(`${answers.join(" + ")}${later ? " (answered later)" : ""}`, async () => {
        const { router, instance } = setup();
        const sender = instance("sender", ["a.example"]);
        answers.forEach((answer, i) =>
          instance(`i${i}`, ["b.example"], () => later ? Promise.resolve(answer) : answer)
        );
        router.deliver(message("alice@a.example/r", "bob@b.example"));
        await router.idle();
        if (expected === undefined) assert.equal(sender.length, 0);
        else {
          assert.equal(sender.length, 1);
          assert.equal(condition(sender[0].element), expected);
        }
      });
    }
  }
});

Deno.test("R17 Router.deliver() bounces a normal packet nobody took to its sender", () => {
  const { router, instance } = setup();
  const sender = instance("sender", ["a.example"]);
  const original = message("alice@a.example/r", "bob@nowhere.example");
  router.deliver(original);
  assert.equal(sender.length, 1);
  const bounce = sender[0];
  assert.equal(bounce.element.name, "message");
  assert.equal(bounce.element.attrs.type, "error");
  assert.equal(bounce.to, "alice@a.example/r");
  assert.equal(bounce.from, "bob@nowhere.example");
  assert.equal(bounce.element.attrs.id, "m1");
  assert.equal(bounce.element.getChildText("body"), "hi");
  assert.equal(condition(bounce.element), "service-unavailable");
  assert.equal(bounce.bounced, true);
  assert.equal(bounce.hops, 1);
  // The original was not changed.
  assert.equal(original.attrs.type, undefined);
  assert.equal(original.getChild("error"), undefined);
});

Deno.test("R18 Router.deliver() never bounces an error, an iq result or an unaddressed packet", () => {
  const { router, fallback, instance } = setup();
  const sender = instance("sender", ["a.example"]);
  router.deliver(xml("message", { type: "error", from: "a@a.example", to: "b@nowhere" }));
  router.deliver(xml("iq", { type: "result", from: "a@a.example", to: "b@nowhere", id: "1" }));
  router.deliver(xml("presence", { type: "error", from: "a@a.example", to: "b@nowhere" }));
  router.deliver(xml("message", { to: "b@nowhere" }));
  assert.equal(sender.length, 0);
  assert.equal(fallback.length, 4, "each drop is logged");
  for (const log of fallback) {
    assert.equal(log.element.name, "log");
    assert.equal(log.element.attrs.type, "warn");
    assert.match(log.element.text(), /^Dropped an undeliverable (message|iq|presence)/);
  }
  // An iq get or set is answered, of course.
  router.deliver(xml("iq", { type: "get", from: "a@a.example", to: "b@nowhere", id: "2" }));
  assert.equal(sender.length, 1);
  assert.equal(sender[0].element.attrs.type, "error");
});

Deno.test("R19 Router.deliver() returns xdb and route packets nobody took as type=error", () => {
  const { router, fallback } = setup();
  const back: Packet[] = [];
  for (const id of ["sm", "c2s"]) {
    router.addInstance(id).add("deliver", (packet) => {
      back.push(packet);
      return "done";
    });
  }
  const data = xml("query", { xmlns: "jabber:iq:roster" });
  router.deliver(
    xml("xdb", { type: "set", to: "u@nowhere", from: "sm", ns: "jabber:iq:roster", id: "7" }, data),
  );
  router.deliver(xml("route", { type: "session", to: "u@nowhere/r", from: "c2s/9" }));
  assert.equal(back.length, 2);
  const [xdb, route] = back.map((packet) => packet.element);
  assert.deepEqual(xdb.attrs, {
    type: "error",
    to: "sm",
    from: "u@nowhere",
    ns: "jabber:iq:roster",
    id: "7",
  });
  assert.equal(back[0].kind, "normal", "an xdb error travels back as a normal packet");
  assert.equal(xdb.elements[0], data);
  assert.deepEqual(route.attrs, { type: "error", to: "c2s/9", from: "u@nowhere/r" });
  assert.equal(back[1].kind, "route");
  // A route error nobody takes is not answered again: dropped and logged.
  router.deliver(xml("route", { type: "error", to: "u@nowhere/r", from: "c2s/9" }));
  assert.equal(back.length, 2);
  assert.equal(fallback.length, 1);
  assert.match(fallback[0].element.text(), /^Dropped an undeliverable route/);
});

Deno.test("R20 Router.deliver() bounces a packet at most once", () => {
  const { router, fallback, instance } = setup();
  // The sender's host exists but nobody there takes the bounce.
  const sender = instance("sender", ["a.example"], () => "pass");
  router.deliver(message("alice@a.example", "bob@nowhere"));
  assert.equal(sender.length, 1, "the bounce reached the sender's host");
  assert.equal(sender[0].bounced, true);
  assert.equal(fallback.length, 1);
  assert.match(fallback[0].element.text(), /^Dropped a bounce nobody took \(service-unavailable\)/);
  // A packet marked bounced by its maker is not bounced either.
  router.deliver(new Packet(message("alice@a.example", "bob@nowhere"), { bounced: true }));
  assert.equal(sender.length, 1);
  assert.equal(fallback.length, 2);
});

Deno.test("R21 Router.deliver() sends unfiltered log packets nobody takes, and drop reports, to the fallback", () => {
  const { router, fallback } = setup();
  const line = xml("log", { type: "info", from: "example.org" }, "hello");
  router.deliver(line);
  assert.equal(fallback.length, 1);
  assert.equal(fallback[0].element, line, "the log packet itself, not a bounce");
  // A log section that has no handler taking the line leaves it to the fallback too.
  const taken: Packet[] = [];
  let answer: HandlerResult = "pass";
  router.addInstance("logger").add("deliver", (packet) => {
    taken.push(packet);
    return answer;
  });
  router.tree.insert("log", "*", "logger");
  router.deliver(line);
  assert.equal(taken.length, 1);
  assert.equal(fallback.length, 2);
  // A log section that filtered the line out (skip) did what it was configured to do.
  answer = "skip";
  router.deliver(line);
  assert.equal(taken.length, 2);
  assert.equal(fallback.length, 2);
  // A log section that takes lines gets the drop reports too.
  answer = "done";
  router.deliver(xml("message", { type: "error", from: "a@a.example", to: "b@nowhere" }));
  assert.equal(fallback.length, 2);
  assert.equal(taken.length, 3);
  assert.equal(taken[2].element.attrs.type, "warn");
  assert.equal(taken[2].host, "nowhere", "the report is about the dropped packet's host");
});

Deno.test("R22 Router.deliver() drops a packet past the hop limit", async (t) => {
  await t.step("a synchronous loop between two instances stops after 16 hops", () => {
    const { router, fallback } = setup();
    const seen: number[] = [];
    for (const [id, next] of [["a", "b"], ["b", "a"]]) {
      router.addInstance(id, ["normal"]).add("deliver", (packet) => {
        seen.push(packet.hops);
        router.deliver(xml("message", { from: id, to: next }));
        return "done";
      });
    }
    router.deliver(xml("message", { from: "b", to: "a" }));
    assert.deepEqual(seen, Array.from({ length: 17 }, (_, i) => i));
    assert.equal(fallback.length, 1);
    assert.match(fallback[0].element.text(), /^Dropped a packet after 16 hops/);
  });

  await t.step("an async loop is counted through the explicit cause", async () => {
    const { router, fallback } = setup({ maxHops: 5 });
    const seen: number[] = [];
    for (const [id, next] of [["a", "b"], ["b", "a"]]) {
      router.addInstance(id, ["normal"]).add("deliver", async (packet): Promise<HandlerResult> => {
        seen.push(packet.hops);
        await new Promise((resolve) => setTimeout(resolve, 0));
        if (seen.length < 100) router.deliver(xml("message", { from: id, to: next }), packet);
        return "done";
      });
    }
    router.deliver(xml("message", { from: "b", to: "a" }));
    await router.idle();
    assert.deepEqual(seen, [0, 1, 2, 3, 4, 5]);
    assert.equal(fallback.length, 1);
    assert.match(fallback[0].element.text(), /^Dropped a packet after 5 hops/);
  });

  await t.step(
    "a handler that runs after an async one in its chain still counts hops",
    async () => {
      const { router } = setup({ maxHops: 5 });
      const seen: number[] = [];
      for (const [id, next] of [["a", "b"], ["b", "a"]]) {
        const chain = router.addInstance(id, ["normal"]);
        chain.add("precond", () => Promise.resolve("pass"));
        chain.add("deliver", (packet) => {
          seen.push(packet.hops);
          if (seen.length < 100) router.deliver(xml("message", { from: id, to: next }));
          return "done";
        });
      }
      router.deliver(xml("message", { from: "b", to: "a" }));
      await router.idle();
      assert.deepEqual(seen, [0, 1, 2, 3, 4, 5]);
    },
  );

  await t.step("a log line written while handling counts as caused by the packet", () => {
    const { router, fallback } = setup({ maxHops: 2 });
    const logged: Packet[] = [];
    router.addInstance("logger", ["log"]).add("deliver", (packet) => {
      logged.push(packet);
      return "done";
    });
    router.tree.insert("log", "*", "logger");
    router.addInstance("svc", ["normal"]).add("deliver", (packet) => {
      router.deliver(xml("log", { type: "info", from: "svc" }, `hops ${packet.hops}`));
      if (packet.hops < 5) router.deliver(xml("message", { to: "svc" }));
      return "done";
    });
    router.deliver(xml("message", { to: "svc" }));
    assert.deepEqual(logged.map((p) => p.hops), [1, 2]);
    // The line written at hop 2 and the report of the drop are past the limit: the fallback
    // gets them as they are, never lost.
    assert.deepEqual(
      fallback.map((p) => p.element.text().slice(0, 28)),
      ["hops 2", "Dropped a packet after 2 hop"],
    );
  });
});

Deno.test("R23 Router.deliver() keeps the order of each sender→recipient pair under async handlers", async () => {
  const { router } = setup();
  // A seeded generator, so a failure can be reproduced.
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const received = new Map<string, number[]>();
  router.addInstance("sm").add("deliver", (packet) => {
    const record = () => {
      const key = `${packet.from}→${packet.to}`;
      received.set(key, [...(received.get(key) ?? []), Number(packet.element.text())]);
      return "done" as const;
    };
    const delay = Math.floor(random() * 4);
    // Some answers come at once, some after up to 3 ms: the pair's order must hold anyway.
    if (delay === 0) return record();
    return new Promise((resolve) => setTimeout(() => resolve(record()), delay));
  });
  router.tree.insert("normal", "example.org", "sm");
  const pairs = [
    ["a@x.example", "b@example.org"],
    ["a@x.example", "c@example.org"],
    ["d@y.example", "b@example.org"],
  ];
  const sent = 40;
  for (let n = 0; n < sent; n++) {
    for (const [from, to] of pairs) router.deliver(xml("message", { from, to }, String(n)));
  }
  await router.idle();
  const expected = Array.from({ length: sent }, (_, n) => n);
  for (const [from, to] of pairs) assert.deepEqual(received.get(`${from}→${to}`), expected);
});

Deno.test("R23 Router.deliver() does not hold one pair behind another's slow handler", async () => {
  const { router } = setup();
  let release: (result: HandlerResult) => void = () => {};
  const order: string[] = [];
  router.addInstance("sm").add("deliver", (packet) => {
    if (packet.element.text() === "slow") {
      return new Promise<HandlerResult>((resolve) => release = resolve).then((r) => {
        order.push("slow");
        return r;
      });
    }
    order.push(`${packet.from} ${packet.element.text()}`);
    return "done";
  });
  router.tree.insert("normal", "example.org", "sm");
  router.deliver(xml("message", { from: "a@x", to: "b@example.org" }, "slow"));
  router.deliver(xml("message", { from: "a@x", to: "b@example.org" }, "after"));
  router.deliver(xml("message", { from: "c@x", to: "b@example.org" }, "other"));
  assert.deepEqual(order, ["c@x other"]);
  release("done");
  await router.idle();
  assert.deepEqual(order, ["c@x other", "slow", "a@x after"]);
});

Deno.test("Router.idle() resolves at once when nothing is pending, else when all is settled", async () => {
  const { router } = setup();
  await router.idle();
  let settled = false;
  router.addInstance("slow").add("deliver", async (): Promise<HandlerResult> => {
    await new Promise((resolve) => setTimeout(resolve, 1));
    settled = true;
    return "done";
  });
  router.deliver(xml("message", { to: "slow" }));
  assert.equal(settled, false);
  await router.idle();
  assert.equal(settled, true);
});

Deno.test("Router.stats() counts deliveries per instance and kind, bounces and queued deliveries", async () => {
  const { router, instance } = setup();
  let release = () => {};
  const gate = new Promise<void>((resolve) => release = resolve);
  instance("sm", ["a.example"], () => gate.then(() => "done" as const));
  instance("c2s", ["c.example"]);
  const count = (id: string, kind: string) =>
    router.stats().delivered.find((d) => d.id === id && d.kind === kind)?.count;
  // Two from one sender wait in one pair queue, one from another sender in a second.
  router.deliver(message("x@c.example", "u@a.example"));
  router.deliver(message("x@c.example", "u@a.example"));
  router.deliver(message("y@c.example", "u@a.example"));
  assert.deepEqual({ ...router.stats(), delivered: [] }, {
    delivered: [],
    bounces: {},
    queues: 2,
    queued: 3,
  });
  release();
  await router.idle();
  assert.equal(count("sm", "normal"), 3);
  assert.equal(count("sm", "xdb"), 0);
  // Nobody serves b.example: the bounce goes back to the sender's c2s, counted once.
  router.deliver(message("x@c.example", "u@b.example"));
  await router.idle();
  const stats = router.stats();
  assert.deepEqual(stats.bounces, { "service-unavailable": 1 });
  assert.equal(count("c2s", "normal"), 1);
  assert.equal(stats.queues, 0);
  assert.equal(stats.queued, 0);
});
