/** Tests of one instance's chain: phase order and the handler results (ROUTING.md R9–R15). */
import assert from "node:assert/strict";
import { xml } from "../xml/element.ts";
import { Chain } from "./chain.ts";
import type { Handler, HandlerResult } from "./handler.ts";
import { Packet } from "./packet.ts";

const packet = () => new Packet(xml("message", { from: "a@a.example", to: "b@b.example" }));

/** A handler that records its name and answers `result`. */
function recorder(seen: string[], name: string, result: HandlerResult): Handler {
  return () => {
    seen.push(name);
    return result;
  };
}

Deno.test("R9 Chain.run() calls handlers in phase order, then in the order they were added", () => {
  const chain = new Chain();
  const seen: string[] = [];
  chain.add("deliver", recorder(seen, "deliver 1", "pass"));
  chain.add("precond", recorder(seen, "precond 1", "pass"));
  chain.add("predeliver", recorder(seen, "predeliver", "pass"));
  chain.add("cond", recorder(seen, "cond", "pass"));
  chain.add("deliver", recorder(seen, "deliver 2", "pass"));
  chain.add("precond", recorder(seen, "precond 2", "pass"));
  assert.equal(chain.run(packet()), "pass");
  assert.deepEqual(seen, [
    "precond 1",
    "precond 2",
    "cond",
    "predeliver",
    "deliver 1",
    "deliver 2",
  ]);
  assert.deepEqual(chain.describe().map((h) => h.phase), [
    "precond",
    "precond",
    "cond",
    "predeliver",
    "deliver",
    "deliver",
  ]);
});

Deno.test("R10 Chain.run() goes on to the next handler on pass and answers pass at the end", () => {
  const chain = new Chain();
  const seen: string[] = [];
  chain.add("cond", recorder(seen, "a", "pass"));
  chain.add("cond", recorder(seen, "b", "pass"));
  assert.equal(chain.run(packet()), "pass");
  assert.deepEqual(seen, ["a", "b"]);
  assert.equal(new Chain().run(packet()), "pass");
});

Deno.test("R11 Chain.run() stops on skip without taking the packet", () => {
  const chain = new Chain();
  const seen: string[] = [];
  chain.add("precond", recorder(seen, "filter", "skip"));
  chain.add("deliver", recorder(seen, "storage", "done"));
  assert.equal(chain.run(packet()), "skip");
  assert.deepEqual(seen, ["filter"]);
});

Deno.test("R12 Chain.run() stops on done: the packet is taken", () => {
  const chain = new Chain();
  const seen: string[] = [];
  chain.add("cond", recorder(seen, "taker", "done"));
  chain.add("deliver", recorder(seen, "later", "done"));
  assert.equal(chain.run(packet()), "done");
  assert.deepEqual(seen, ["taker"]);
});

Deno.test("R13 Chain.run() stops on error", () => {
  const chain = new Chain();
  const seen: string[] = [];
  chain.add("cond", recorder(seen, "broken", "error"));
  chain.add("deliver", recorder(seen, "later", "done"));
  assert.equal(chain.run(packet()), "error");
  assert.deepEqual(seen, ["broken"]);
});

Deno.test("R14 Chain.run() removes a handler that answers unregister and goes on as pass", async () => {
  const chain = new Chain();
  const seen: string[] = [];
  chain.add("precond", recorder(seen, "once", "unregister"));
  chain.add("deliver", recorder(seen, "taker", "done"));
  assert.equal(chain.size, 2);
  assert.equal(chain.run(packet()), "done");
  assert.equal(chain.size, 1);
  assert.equal(chain.run(packet()), "done");
  assert.deepEqual(seen, ["once", "taker", "taker"]);
  // The same holds for an answer given later.
  chain.add("precond", () => Promise.resolve("unregister"));
  assert.equal(await chain.run(packet()), "done");
  assert.equal(chain.size, 1);
});

Deno.test("R15 Chain.run() answers error for a thrown handler, a rejected promise or a non-word", async (t) => {
  const failures: [string, Handler][] = [
    ["throws", () => {
      throw new Error("boom");
    }],
    ["rejects", () => Promise.reject(new Error("boom"))],
    ["async throws", async () => {
      await Promise.resolve();
      throw new Error("boom");
    }],
    ["answers a word that is not a result", () => "yes" as HandlerResult],
    ["answers nothing", () => undefined as unknown as HandlerResult],
    ["answers a number", () => 1 as unknown as HandlerResult],
    ["resolves to a non-word", () => Promise.resolve(true as unknown as HandlerResult)],
  ];
  for (const [name, handler] of failures) {
    await t.step(name, async () => {
      const chain = new Chain();
      const seen: string[] = [];
      chain.add("cond", handler);
      chain.add("deliver", recorder(seen, "later", "done"));
      assert.equal(await chain.run(packet()), "error");
      assert.deepEqual(seen, [], "no handler runs after the failure");
    });
  }
});

Deno.test("Chain.run() answers at once while every handler does, later once one answers later", async () => {
  const chain = new Chain();
  const seen: string[] = [];
  chain.add("cond", recorder(seen, "sync", "pass"));
  chain.add("deliver", recorder(seen, "sync taker", "done"));
  assert.equal(chain.run(packet()), "done");
  chain.add("precond", async (): Promise<HandlerResult> => {
    await Promise.resolve();
    seen.push("async");
    return "pass";
  });
  const outcome = chain.run(packet());
  assert.ok(outcome instanceof Promise);
  assert.equal(await outcome, "done");
  assert.deepEqual(seen, ["sync", "sync taker", "async", "sync", "sync taker"]);
});

Deno.test("Chain.add() returns a remover, and a run in progress keeps the handlers it started with", () => {
  const chain = new Chain();
  const seen: string[] = [];
  let removeLater: () => void = () => {};
  chain.add("precond", () => {
    seen.push("first");
    // Added and removed during the run: the running packet still sees the original list.
    chain.add("precond", recorder(seen, "added during run", "pass"));
    removeLater();
    return "pass";
  });
  removeLater = chain.add("deliver", recorder(seen, "removed during run", "pass"));
  assert.equal(chain.run(packet()), "pass");
  // A handler removed before its turn does not run, even in the run that removed it.
  assert.deepEqual(seen, ["first"]);
  assert.equal(chain.size, 2);
  seen.length = 0;
  chain.run(packet());
  assert.deepEqual(seen, ["first", "added during run"]);
});
