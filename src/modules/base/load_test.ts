/** Tests of `<load>`: a module in the main thread and in a Web Worker, with the real module API. */
import assert from "node:assert/strict";
import type { ValidationContext } from "../../server/module_api.ts";
import { waitFor } from "../../server/_testing.ts";
import { xml } from "../../xml/element.ts";
import { botWorld } from "./_testing.ts";
import { load } from "./load.ts";
import { NS_STANZAS_ERRORS } from "../../util/ns.ts";

function problems(element: ReturnType<typeof xml>): string[] {
  const found: string[] = [];
  const context: ValidationContext = {
    problem: (_at, message) => found.push(message),
    warning: (_at, message) => found.push(`warning: ${message}`),
  };
  load.validate?.(element, context);
  return found;
}

Deno.test("load.validate() accepts a module path as text or attribute", () => {
  assert.deepEqual(problems(xml("load", {}, "testdata/echo_module.ts")), []);
  assert.deepEqual(
    problems(xml("load", { path: "bot.js", thread: "worker", "restart-delay": "2s" })),
    [],
  );
});

Deno.test("load.validate() refuses a missing path, a non-module file, a bad thread and durations", () => {
  assert.match(problems(xml("load"))[0], /names no module/);
  assert.match(problems(xml("load", {}, "bot.py"))[0], /not a JavaScript or TypeScript module/);
  assert.match(
    problems(xml("load", { thread: "green" }, "a.ts"))[0],
    /Option "thread" of <load> is invalid: "green" is not known here; write main or worker/,
  );
  assert.match(
    problems(xml("load", { thread: "worker", "restart-delay": "soon" }, "a.ts"))[0],
    /Option "restart-delay" of <load> is invalid: duration "soon"/,
  );
  assert.match(
    problems(xml("load", { thread: "worker", queue: "many" }, "a.ts"))[0],
    /"many" is not a whole number/,
  );
});

Deno.test("load.validate() checks the restart settings without thread=worker too, which <fork> reads", () => {
  assert.deepEqual(problems(xml("fork", { "restart-delay": "soon", queue: "-1" }, "a.ts")), [
    'Option "restart-delay" of <fork> is invalid: duration "soon" is not a number with a unit; ' +
    "write it like 250ms, 30s, 5m, 1h or 2d",
    'Option "queue" of <fork> is invalid: -1 is too small; write 0 or more',
  ]);
});

Deno.test("4 <load> runs a module in the main thread with the module API", async () => {
  const tree = await botWorld(`<service id="bot"><host>bot.example</host>
    <load prefix="main: ">testdata/echo_module.ts</load></service>`);
  tree.send("bot.example", "hello");
  tree.send("bot.example", "store apples");
  await waitFor(() => tree.received.length === 2, "two replies");
  await tree.world.router.idle();
  assert.deepEqual(tree.bodies(), ["main: hello", "stored apples"]);
  assert.equal((await tree.world.xdb.get("alice@client.example/r", "test:last"))?.text(), "apples");
  assert.ok(tree.logs.some((line) => line.includes("echo module up in bot")));
  await tree.world.stop();
});

Deno.test("4 <load> stops the section's start when the module's own validate refuses its settings", async () => {
  const tree = await botWorld(`
    <service id="picky"><host>picky.example</host><load>testdata/picky_module.ts</load></service>
    <service id="missing"><host>missing.example</host><load>testdata/nothing.ts</load></service>`);
  const logs = tree.logs.join("\n");
  assert.match(
    logs,
    /Section picky failed to start and was stopped: .*settings for .*picky_module\.ts are not usable: <load> needs a color/,
  );
  assert.match(logs, /Section missing failed to start and was stopped: .*Cannot import/);
  assert.deepEqual(tree.world.server.sections().map((section) => section.id), ["xdb"]);
  await tree.world.stop();
});

Deno.test("4 <load thread=worker> runs a module in a Web Worker with the same API", async () => {
  const tree = await botWorld(`<service id="bot"><host>bot.example</host>
    <load thread="worker" prefix="worker: ">testdata/echo_module.ts</load></service>`);
  // Many pairs at once, so the batches in both directions carry more than one message.
  for (let i = 0; i < 50; i++) tree.send("bot.example", `m${i}`, `user${i % 5}@client.example`);
  tree.send("bot.example", "store pears");
  tree.send("bot.example", "throw");
  tree.send("bot.example", "log a", "carol@client.example/r");
  tree.send("bot.example", "log b", "carol@client.example/r");
  await waitFor(() => tree.received.length === 54, "54 replies");
  await tree.world.router.idle();
  const bodies = tree.bodies();
  for (let i = 0; i < 50; i++) assert.ok(bodies.includes(`worker: m${i}`), `m${i} answered`);
  // Per pair, the order is kept.
  for (let user = 0; user < 5; user++) {
    const mine = tree.received
      .filter((p) => p.element.attrs.to === `user${user}@client.example`)
      .map((p) => p.element.getChildText("body"));
    assert.deepEqual(mine, mine.toSorted((a, b) => Number(a!.slice(9)) - Number(b!.slice(9))));
  }
  assert.ok(bodies.includes("stored pears"));
  assert.equal((await tree.world.xdb.get("alice@client.example/r", "test:last"))?.text(), "pears");
  // Keyed logs (append, range, trim) through the worker.
  assert.ok(bodies.includes("logged a of 1, trimmed 0"), bodies.join("\n"));
  assert.ok(bodies.includes("logged b of 2, trimmed 1"), bodies.join("\n"));
  // The handler that threw answered error: the message bounced, and the worker still runs.
  const bounce = tree.received.find((p) => p.element.attrs.type === "error");
  assert.ok(
    bounce?.element.getChild("error")?.getChild("internal-server-error", NS_STANZAS_ERRORS),
  );
  assert.ok(tree.logs.some((line) => line.includes("echo module up in bot")));
  await tree.world.stop();
});

Deno.test("4 <load thread=worker> restarts a worker that dies; what was sent meanwhile is answered or bounced", async () => {
  const tree = await botWorld(`<service id="bot"><host>bot.example</host>
    <load thread="worker" restart-delay="5s">testdata/echo_module.ts</load></service>`);
  tree.send("bot.example", "crash");
  await waitFor(
    () => tree.logs.some((line) => line.includes("stopped: it threw")),
    "the crash to be logged",
  );
  // Sent while the worker is down: they wait in the queue.
  for (let i = 0; i < 5; i++) tree.send("bot.example", `late${i}`);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(tree.received.length, 0);
  tree.world.memory.clock.advance(5000);
  await waitFor(() => tree.received.length === 5, "the queued packets to be answered");
  await tree.world.router.idle();
  assert.deepEqual(
    tree.bodies(),
    ["late0", "late1", "late2", "late3", "late4"].map((b) => `echo: ${b}`),
  );
  assert.ok(tree.logs.some((line) => line.includes("restarted")));
  await tree.world.stop();
});

Deno.test("4 <load thread=worker> bounces queued packets when the worker stays down too long", async () => {
  const tree = await botWorld(`<service id="bot"><host>bot.example</host>
    <load thread="worker" restart-delay="1h" queue-timeout="10s" queue="3">testdata/echo_module.ts</load>
  </service>`);
  tree.send("bot.example", "crash");
  await waitFor(() => tree.logs.some((l) => l.includes("stopped: it threw")), "the crash");
  // Five pairs, so none waits behind another in the router (R23): all reach the queue at once.
  for (let i = 0; i < 5; i++) tree.send("bot.example", `late${i}`, `u${i}@client.example`);
  // Two overflow the queue of three at once; the other three expire with the queue timeout.
  await waitFor(() => tree.received.length === 2, "the overflow to bounce");
  tree.world.memory.clock.advance(10_000);
  await waitFor(() => tree.received.length === 5, "the expired packets to bounce");
  await tree.world.router.idle();
  for (const packet of tree.received) {
    assert.equal(packet.element.attrs.type, "error");
    assert.ok(
      packet.element.getChild("error")?.getChild("internal-server-error", NS_STANZAS_ERRORS),
    );
  }
  await tree.world.stop();
});

Deno.test("6 examples/loaded_module/time_bot.ts answers !time in a worker", async () => {
  const root = new URL("../../../", import.meta.url).pathname.slice(0, -1);
  const tree = await botWorld(
    `<service id="time"><host>time.example</host>
      <load thread="worker" path="examples/loaded_module/time_bot.ts"/></service>`,
    { file: `${root}/jabberd.xml` },
  );
  tree.send("time.example", "!time");
  tree.send("time.example", "hello", "bob@client.example");
  await waitFor(() => tree.received.length === 2, "two answers");
  await tree.world.router.idle();
  assert.deepEqual(
    tree.bodies().sort(),
    [
      new Date(tree.world.memory.clock.now()).toISOString(),
      "Send !time to get the time.",
    ].sort(),
  );
  await tree.world.stop();
});
