/**
 * `<fork>` acknowledgements (src/tree/ROUTING.md R48) against in-memory children written by hand,
 * so each test decides what the child acknowledges before it dies. The real child
 * (src/cli/fork_child.ts) in a real process: tests/fork_acks_test.ts.
 */
import assert from "node:assert/strict";
import type { MemoryProgram, MemoryProgramContext } from "../../adapters/memory/process.ts";
import { NS_LINK } from "../../link/wire.ts";
import { type Element, xml } from "../../xml/element.ts";
import { StreamParser } from "../../xml/stream_parser.ts";
import { botWorld } from "./_testing.ts";

const EXEC_PATH = "/memory/jabberd";

/** One run of the hand-written child: what it read, and its hands on the stream. */
interface Run {
  header: Element | undefined;
  bodies: string[];
  /** Every element read, `<a/>`-free (packets and XDB answers alike). */
  elements: Element[];
  context: MemoryProgramContext;
  ack(h: number | string): void;
  /** Ends the process, as a crash would: it reads nothing more. */
  exit(): void;
}

/**
 * A child that opens its stream (offering acknowledgements when `acks`), records what it reads
 * and acknowledges only when a test calls `ack()`. Each run stays alive until it is killed.
 */
function handChild(runs: Run[], acks: boolean): MemoryProgram {
  return (context) => {
    const ended = Promise.withResolvers<void>();
    const run: Run = {
      header: undefined,
      bodies: [],
      elements: [],
      context,
      ack: (h) => context.stdout(`<a xmlns='${NS_LINK}' h='${h}'/>`),
      exit: () => ended.resolve(),
    };
    runs.push(run);
    const parser = new StreamParser({
      onStreamStart: (header) => {
        run.header = header;
        const offer = acks ? ` xmlns:jabberd='${NS_LINK}' jabberd:acks='1'` : "";
        context.stdout(
          `<stream:stream xmlns:stream='http://etherx.jabber.org/streams' ` +
            `xmlns='jabberd:link:node' from='bot'${offer}>`,
        );
      },
      onStanza: (element) => {
        run.elements.push(element);
        const body = element.getChildText("body");
        if (body !== undefined) run.bodies.push(body);
      },
      onStreamEnd: () => {},
      onError: () => {},
    });
    context.onStdin((chunk) => parser.write(chunk));
    context.signal.addEventListener("abort", () => ended.resolve());
    return ended.promise;
  };
}

async function forkWorld(acks: boolean) {
  const runs: Run[] = [];
  const tree = await botWorld(
    `<service id="bot"><host>bot.example</host>
      <fork path="testdata/echo_module.ts" restart-delay="1s"/></service>`,
    { memory: { programs: { [EXEC_PATH]: handChild(runs, acks) }, execPath: EXEC_PATH } },
  );
  const settle = () => tree.world.settle(20);
  await settle();
  return { tree, runs, settle };
}

/** The current run dies (its program returns), and the parent restarts it after its delay. */
async function killAndRestart(world: Awaited<ReturnType<typeof forkWorld>>): Promise<void> {
  const before = world.runs.length;
  world.runs[before - 1].exit();
  await world.settle();
  // The restart delay doubles after each short run: a second at a time, a few times at most.
  for (let i = 0; i < 8 && world.runs.length === before; i++) {
    world.tree.world.memory.clock.advance(1000);
    await world.settle();
  }
  assert.equal(world.runs.length, before + 1, "the child was restarted");
}

Deno.test("R48 fork: the parent offers acknowledgements, and what a dead child did not acknowledge goes to its successor exactly once, before newer packets", async () => {
  const world = await forkWorld(true);
  const { tree, runs, settle } = world;
  try {
    assert.equal(runs.length, 1);
    assert.equal(runs[0].header?.attrs["jabberd:acks"], "1");
    assert.match(runs[0].header?.attrs.id ?? "", /^[0-9a-f]{32}$/);
    for (const body of ["p0", "p1", "p2", "p3"]) tree.send("bot.example", body);
    await settle();
    assert.deepEqual(runs[0].bodies, ["p0", "p1", "p2", "p3"]);
    runs[0].ack(2);
    await settle();
    await killAndRestart(world);
    // The new run has a stream of its own.
    assert.notEqual(runs[1].header?.attrs.id, runs[0].header?.attrs.id);
    tree.send("bot.example", "p4");
    await settle();
    assert.deepEqual(runs[1].bodies, ["p2", "p3", "p4"]);
    // Acknowledged, they are forgotten: another death resends nothing of them.
    runs[1].ack(3);
    await settle();
    await killAndRestart(world);
    tree.send("bot.example", "p5");
    await settle();
    assert.deepEqual(runs[2].bodies, ["p5"]);
  } finally {
    await tree.world.stop();
  }
});

Deno.test("R48 fork: a child that does not take the offer gets the plain stream and nothing again", async () => {
  const world = await forkWorld(false);
  const { tree, runs, settle } = world;
  try {
    tree.send("bot.example", "q0");
    await settle();
    assert.deepEqual(runs[0].bodies, ["q0"]);
    await killAndRestart(world);
    tree.send("bot.example", "q1");
    await settle();
    assert.deepEqual(runs[1].bodies, ["q1"]);
  } finally {
    await tree.world.stop();
  }
});

Deno.test("R48 fork: an acknowledgement past what was written, or malformed, ends the child's run", async () => {
  const world = await forkWorld(true);
  const { tree, runs, settle } = world;
  try {
    tree.send("bot.example", "r0");
    await settle();
    runs[0].ack(5);
    await settle();
    assert.ok(
      tree.logs.some((l) => /undefined-condition/.test(l) && /acknowledged 5 packets/.test(l)),
      tree.logs.join("\n"),
    );
    tree.world.memory.clock.advance(1000);
    await settle();
    assert.equal(runs.length, 2);
    // r0 was never acknowledged: the successor gets it.
    assert.deepEqual(runs[1].bodies, ["r0"]);
    runs[1].ack("x");
    await settle();
    assert.ok(tree.logs.some((l) => /invalid-xml/.test(l)), tree.logs.join("\n"));
  } finally {
    await tree.world.stop();
  }
});

Deno.test("R48 fork: an answer to a child's XDB request is counted but never written to its successor", async () => {
  const world = await forkWorld(true);
  const { tree, runs, settle } = world;
  try {
    // The child asks its parent's XDB (as api.xdb does in a real child).
    runs[0].context.stdout(
      xml("xdb", { type: "get", to: "someone@bot.example", from: "bot", ns: "test:x", id: "x1" })
        .toString(),
    );
    await settle();
    await tree.world.settle(50);
    const answer = runs[0].elements.find((e) => e.name === "xdb");
    assert.equal(answer?.attrs.id, "x1");
    tree.send("bot.example", "s0");
    await settle();
    // Two written: the answer and s0. An acknowledgement of both is in range.
    runs[0].ack(2);
    await settle();
    assert.equal(runs.length, 1, "the count matched: no stream error");
    // Not acknowledged this time: only the packet is resent, not the stale answer.
    runs[0].context.stdout(
      xml("xdb", { type: "get", to: "someone@bot.example", from: "bot", ns: "test:x", id: "x2" })
        .toString(),
    );
    await tree.world.settle(50);
    tree.send("bot.example", "s1");
    await settle();
    assert.ok(runs[0].elements.some((e) => e.attrs.id === "x2"));
    await killAndRestart(world);
    await settle();
    assert.deepEqual(runs[1].bodies, ["s1"]);
    assert.ok(!runs[1].elements.some((e) => e.name === "xdb"), "no stale XDB answer");
  } finally {
    await tree.world.stop();
  }
});
