import assert from "node:assert/strict";
import { memoryAdapters, type MemoryProgramContext } from "../adapters/memory/mod.ts";
import { NODE_READY_LINE } from "./supervised.ts";
import { Supervisor, type SupervisorOptions } from "./supervisor.ts";

/** Lets every queued microtask and promise callback run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

/** A node that runs until SIGTERM (then exits 0), records what it saw, prints a line. */
function world(options: Partial<SupervisorOptions> = {}) {
  const memory = memoryAdapters();
  const started: MemoryProgramContext[] = [];
  const signals: string[] = [];
  const lines: string[] = [];
  /** Makes the running node with that id exit with code 3. */
  const die = new Map<string, () => void>();
  let stubborn = false;
  /** Nodes that never say they are up. */
  const silent = new Set<string>();
  memory.process.register("/memory/jabberd", (context) => {
    started.push(context);
    const id = context.env.JABBERD_NODE;
    context.stdout(`node ${id} up\n${silent.has(id) ? "" : NODE_READY_LINE + "\n"}partial`);
    return new Promise<number>((resolve) => {
      context.onSignal((signal) => {
        signals.push(`${context.env.JABBERD_NODE} ${signal}`);
        if (signal === "SIGTERM" && !stubborn) resolve(0);
      });
      die.set(context.env.JABBERD_NODE, () => resolve(3));
    });
  });
  const supervisor = new Supervisor(memory.adapters, {
    ids: ["n1", "n2"],
    args: ["start", "-c", "farm.xml", "--supervised"],
    env: { JABBERD_NATS: "nats://127.0.0.1:4222" },
    log: (type, text) => lines.push(`${type} ${text}`),
    ...options,
  });
  return {
    memory,
    supervisor,
    started,
    signals,
    lines,
    beStubborn: () => stubborn = true,
    silent,
    die: (id: string) => die.get(id)!(),
  };
}

Deno.test("Supervisor starts one node per id with JABBERD_NODE set, the same arguments and env", async () => {
  const w = world();
  await w.supervisor.start();
  await settle();
  assert.deepEqual(w.started.map((c) => c.env.JABBERD_NODE), ["n1", "n2"]);
  for (const context of w.started) {
    assert.deepEqual(context.args, ["start", "-c", "farm.xml", "--supervised"]);
    assert.equal(context.env.JABBERD_NATS, "nats://127.0.0.1:4222");
  }
  assert.equal(w.supervisor.pids.size, 2);
});

Deno.test("Supervisor starts the other nodes once the first is up, or after the ready timeout", async () => {
  const w = world({ ids: ["n1", "n2", "n3"], readyTimeoutMs: 5000 });
  w.silent.add("n1");
  const all = w.supervisor.start();
  await settle();
  assert.deepEqual(w.started.map((c) => c.env.JABBERD_NODE), ["n1"], "n1 alone while not up");
  w.memory.clock.advance(5000);
  await settle();
  assert.deepEqual(w.started.map((c) => c.env.JABBERD_NODE), ["n1", "n2", "n3"]);
  assert.ok(w.lines.some((l) => l.includes("Node n1 is not up yet: starting the others anyway")));
  w.memory.clock.advance(5000);
  assert.equal(await all, false, "not every node came up");
  await w.supervisor.stop();
});

Deno.test("Supervisor.start() resolves true once every node said it is up", async () => {
  const w = world({ ids: ["n1", "n2", "n3"] });
  assert.equal(await w.supervisor.start(), true);
  assert.equal(w.started.length, 3);
  await w.supervisor.stop();
});

Deno.test("Supervisor writes each node's output line by line with the node id in front", async () => {
  const w = world();
  await w.supervisor.start();
  await settle();
  assert.ok(!w.memory.output.stdout.some((line) => line.includes(NODE_READY_LINE)), "eaten");
  assert.ok(w.memory.output.stdout.includes("[n1] node n1 up\n"));
  assert.ok(w.memory.output.stdout.includes("[n2] node n2 up\n"));
  // The unfinished line comes out when the node ends.
  assert.ok(!w.memory.output.stdout.some((line) => line.includes("partial")));
  await w.supervisor.stop();
  assert.ok(w.memory.output.stdout.includes("[n1] partial\n"));
});

Deno.test("Supervisor restarts a node that died, after a delay that doubles while it keeps dying", async () => {
  const w = world({ firstDelayMs: 1000, maxDelayMs: 4000, stableMs: 30_000 });
  await w.supervisor.start();
  await settle();
  const first = w.supervisor.pids.get("n1")!;
  w.die("n1");
  await settle();
  assert.equal(w.supervisor.pids.get("n1"), undefined);
  assert.ok(
    w.lines.some((l) => l.includes("Node n1") && l.includes("code 3; restarting it in 1 s")),
  );
  w.memory.clock.advance(999);
  await settle();
  assert.equal(w.supervisor.pids.get("n1"), undefined, "not before the delay");
  w.memory.clock.advance(1);
  await settle();
  const second = w.supervisor.pids.get("n1")!;
  assert.ok(second !== undefined && second !== first);
  assert.equal(w.supervisor.restarts.get("n1"), 1);
  // It dies again at once: the next delay is 2 s, then 4 s (the maximum), then 4 s.
  for (const delay of [2000, 4000, 4000]) {
    w.die("n1");
    await settle();
    w.memory.clock.advance(delay - 1);
    await settle();
    assert.equal(w.supervisor.pids.get("n1"), undefined, `not before ${delay} ms`);
    w.memory.clock.advance(1);
    await settle();
    assert.ok(w.supervisor.pids.get("n1") !== undefined, `restarted after ${delay} ms`);
  }
  // Node n2 was never touched.
  assert.equal(w.supervisor.restarts.get("n2"), 0);
  await w.supervisor.stop();
});

Deno.test("Supervisor restarts a node that ran a while after the first delay again", async () => {
  const w = world({ firstDelayMs: 1000, maxDelayMs: 30_000, stableMs: 10_000 });
  await w.supervisor.start();
  await settle();
  for (let i = 0; i < 3; i++) {
    w.die("n1");
    await settle();
    w.memory.clock.advance(30_000);
    await settle();
  }
  // It ran 30 s each time before dying: every restart came after 1 s.
  const delays = w.lines.filter((l) => l.includes("restarting it in")).map((l) =>
    l.split(" in ")[1]
  );
  assert.deepEqual(delays, ["1 s", "1 s", "1 s"]);
  await w.supervisor.stop();
});

Deno.test("Supervisor passes SIGHUP on to every node", async () => {
  const w = world();
  await w.supervisor.start();
  await settle();
  w.supervisor.signal("SIGHUP");
  await settle();
  assert.deepEqual(w.signals.sort(), ["n1 SIGHUP", "n2 SIGHUP"]);
  assert.equal(w.supervisor.pids.size, 2, "SIGHUP stops nobody");
  await w.supervisor.stop();
});

Deno.test("Supervisor.stop() sends SIGTERM to every node, waits for them and restarts none", async () => {
  const w = world();
  await w.supervisor.start();
  await settle();
  assert.equal(await w.supervisor.stop(), true);
  assert.deepEqual(w.signals.sort(), ["n1 SIGTERM", "n2 SIGTERM"]);
  assert.equal(w.supervisor.pids.size, 0);
  w.memory.clock.advance(60_000);
  await settle();
  assert.equal(w.supervisor.pids.size, 0, "no restart after stop");
  assert.equal(w.started.length, 2);
});

Deno.test("Supervisor.stop() kills a node with SIGKILL when it outlives the grace period", async () => {
  const w = world({ stopTimeoutMs: 5000 });
  w.beStubborn();
  await w.supervisor.start();
  await settle();
  const stopped = w.supervisor.stop();
  await settle();
  assert.equal(w.supervisor.pids.size, 2, "still running during the grace period");
  w.memory.clock.advance(5000);
  assert.equal(await stopped, false);
  assert.equal(w.supervisor.pids.size, 0);
  assert.ok(w.lines.some((l) => l.includes("did not stop within 5 s of SIGTERM")));
});
