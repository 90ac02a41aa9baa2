/**
 * `jabberd start --nodes N` on the memory adapters: the plan (how many nodes, which configs are
 * refused), the supervisor's start with a local NATS server, and a supervised node's listeners
 * sharing their port. The same with real processes is tests/farm_nodes_test.ts.
 */
import assert from "node:assert/strict";
import { memoryAdapters, type MemoryProgramContext } from "../adapters/memory/mod.ts";
import type { Adapters } from "../adapters/types.ts";
import { parseCount, planNodes } from "./node_plan.ts";
import { runStart } from "./start.ts";
import { NODE_READY_LINE } from "./supervised.ts";

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

/** A farm config; `node`, `c2sId` and `farm` replace its parts to make it wrong. */
function farmConfig(
  { node = "${JABBERD_NODE}", c2sId = "c2s-${JABBERD_NODE}", farm = true, nodes = "" } = {},
) {
  const farmSection = farm
    ? `<service id="farm-\${JABBERD_NODE}"><farm${nodes}><node>${node}</node>` +
      `<nats>nats://127.0.0.1:4999</nats></farm></service>`
    : "";
  return `<jabberd>
    <pidfile>/srv/data/jabberd.pid</pidfile>
    ${farmSection}
    <service id="${c2sId}">
      <c2s xmlns="jabberd:config:c2s">
        <domain>localhost</domain>
        <listen port="5222" address="127.0.0.1"/>
        <require-encryption enabled="false"/>
        <plain allow-unencrypted="true"/>
      </c2s>
    </service>
    <service id="sessions"><host>localhost</host><sm xmlns="jabberd:config:sm"/></service>
    <xdb id="xdb"><host/><kv>:memory:</kv></xdb>
  </jabberd>`;
}

const plan = (text: string, flag: string | undefined, cores = 4) => {
  const memory = memoryAdapters({ files: { "/srv/farm.xml": text } });
  return planNodes("/srv/farm.xml", flag, memory.adapters, cores);
};

Deno.test("--nodes reads auto as the number of cores and refuses what is not a count", () => {
  assert.equal(parseCount("auto", "--nodes", 8), 8);
  assert.equal(parseCount("3", "--nodes", 8), 3);
  assert.equal(parseCount("0", "--nodes", 8), 0);
  assert.match(String(parseCount("two", "--nodes", 8)), /--nodes takes a number of nodes/);
  assert.match(String(parseCount("-1", "--nodes", 8)), /or "auto"/);
});

Deno.test("--nodes 2 plans nodes n1 and n2 with the config's NATS URL", async () => {
  const { plan: planned, problem } = await plan(farmConfig(), "2");
  assert.equal(problem, undefined);
  assert.deepEqual(planned?.ids, ["n1", "n2"]);
  assert.deepEqual(planned?.natsUrls, ["nats://127.0.0.1:4999"]);
});

Deno.test("--nodes auto plans one node per core; --nodes 0 and no flag plan none", async () => {
  assert.deepEqual((await plan(farmConfig(), "auto", 3)).plan?.ids, ["n1", "n2", "n3"]);
  assert.deepEqual(await plan(farmConfig(), "0"), {});
  assert.deepEqual(await plan(farmConfig(), undefined), {});
});

Deno.test('<farm nodes="auto"> in the config plans one node per core; --nodes overrides it', async () => {
  const config = farmConfig({ nodes: ' nodes="auto"' });
  assert.deepEqual((await plan(config, undefined, 3)).plan?.ids, ["n1", "n2", "n3"]);
  assert.deepEqual((await plan(config, "2", 3)).plan?.ids, ["n1", "n2"]);
  assert.deepEqual(await plan(config, "0", 3), {}, "--nodes 0: one plain process");
  const child = farmConfig().replace("<farm>", "<farm><nodes>2</nodes>");
  assert.deepEqual((await plan(child, undefined, 8)).plan?.ids, ["n1", "n2"]);
});

Deno.test("--nodes without a <farm> section is refused: the nodes would be separate servers", async () => {
  const { problem } = await plan(farmConfig({ farm: false }), "2");
  assert.match(problem!, /--nodes needs a <farm> section/);
});

Deno.test("--nodes with one fixed <node> id, or none, is refused: every node would share it", async () => {
  assert.match(
    (await plan(farmConfig({ node: "alpha" }), "2")).problem!,
    /same farm node id \("alpha"\)/,
  );
  const none = farmConfig().replace("<node>${JABBERD_NODE}</node>", "");
  assert.match((await plan(none, "2")).problem!, /the one kept in the data folder/);
});

Deno.test("--nodes with a c2s section id that is the same on every node is refused", async () => {
  const { problem } = await plan(farmConfig({ c2sId: "c2s" }), "2");
  assert.match(problem!, /section with the id "c2s", which holds client connections/);
  assert.match(problem!, /c2s-\$\{JABBERD_NODE\}/);
});

/** A fake nats-server: greets like NATS on the port it is given, exits on SIGTERM. */
function fakeNats(adapters: () => Adapters, seen: MemoryProgramContext[]) {
  return async (context: MemoryProgramContext) => {
    seen.push(context);
    const port = Number(context.args[context.args.indexOf("-p") + 1]);
    const listener = await adapters().net.listen(
      { hostname: "127.0.0.1", port },
      (conn) => conn.write('INFO {"server_id":"fake"}\r\n'),
    );
    await new Promise<void>((resolve) => context.onSignal(() => resolve()));
    await listener.close();
    return 0;
  };
}

/** A fake node: runs until SIGTERM, recording the signals it gets. */
function fakeNode(seen: MemoryProgramContext[], signals: string[] = []) {
  return (context: MemoryProgramContext) => {
    seen.push(context);
    context.stdout(NODE_READY_LINE + "\n");
    return new Promise<number>((resolve) =>
      context.onSignal((signal) => {
        signals.push(`${context.env.JABBERD_NODE} ${signal}`);
        if (signal === "SIGTERM") resolve(0);
      })
    );
  };
}

Deno.test("start --nodes 2 starts a local nats-server when none answers, gives the nodes its URL, passes SIGHUP on, and on SIGTERM stops the nodes, then NATS, and exits 0", async () => {
  const memory = memoryAdapters({ files: { "/srv/farm.xml": farmConfig() } });
  const nats: MemoryProgramContext[] = [];
  const nodes: MemoryProgramContext[] = [];
  const signals: string[] = [];
  memory.process.register("nats-server", fakeNats(() => memory.adapters, nats));
  memory.process.register("/memory/jabberd", fakeNode(nodes, signals));
  // The NATS probe waits on the manual clock between attempts: keep time moving.
  const ticker = setInterval(() => memory.clock.advance(100), 1);
  try {
    let started!: () => void;
    const running = new Promise<void>((resolve) => started = resolve);
    const exit = runStart("/srv/farm.xml", memory.adapters, {
      nodes: "2",
      hooks: { onNodesStarted: () => started() },
    });
    await running;
    await settle();
    assert.equal(nats.length, 1);
    assert.deepEqual(nats[0].args.slice(0, 6), ["-js", "-a", "127.0.0.1", "-p", "4999", "-sd"]);
    assert.equal(nats[0].args[6], "/srv/data/nats");
    assert.deepEqual(nodes.map((n) => n.env.JABBERD_NODE), ["n1", "n2"]);
    for (const node of nodes) {
      assert.equal(node.env.JABBERD_NATS, "nats://127.0.0.1:4999");
      assert.deepEqual(node.args, [
        "start",
        "-c",
        "/srv/farm.xml",
        "--supervised",
        "--share-ports",
      ]);
    }
    memory.signals.emit("SIGHUP");
    await settle();
    assert.deepEqual(signals.sort(), ["n1 SIGHUP", "n2 SIGHUP"], "SIGHUP is passed on");
    memory.signals.emit("SIGTERM");
    assert.equal(await exit, 0);
    assert.ok(nodes.every((n) => n.signal.aborted === false), "stopped by SIGTERM, not killed");
    assert.deepEqual(signals.slice(2).sort(), ["n1 SIGTERM", "n2 SIGTERM"]);
    const stderr = memory.output.stderr.join("");
    assert.match(stderr, /started nats-server/);
    assert.ok(
      stderr.indexOf("Node n2 (pid") < stderr.indexOf("Stopping nats-server"),
      "NATS stops after the nodes",
    );
    assert.match(stderr, /Every node stopped/);
  } finally {
    clearInterval(ticker);
  }
});

Deno.test("start --nodes 2 without nats-server installed says so and exits 1", async () => {
  const memory = memoryAdapters({ files: { "/srv/farm.xml": farmConfig() } });
  const code = await runStart("/srv/farm.xml", memory.adapters, { nodes: "2" });
  assert.equal(code, 1);
  assert.match(memory.output.stderr.join(""), /nats-server is not installed \(not found on PATH\)/);
  assert.match(memory.output.stderr.join(""), /apt install nats-server/);
});

Deno.test("start --supervised --share-ports listens with reusePort, so the other nodes can share its port", async () => {
  const memory = memoryAdapters({
    files: { "/srv/farm.xml": farmConfig({ farm: false }) },
    env: { JABBERD_NODE: "n1" },
  });
  let stop!: () => void;
  const started = new Promise<void>((resolve) => stop = resolve);
  const exit = runStart("/srv/farm.xml", memory.adapters, {
    supervised: true,
    sharePorts: true,
    hooks: { onStarted: () => stop() },
  });
  await started;
  assert.ok(memory.output.stdout.includes(NODE_READY_LINE + "\n"), "says it is up");
  // A second listener on the same port is accepted only when the first shares it too.
  const other = await memory.net.listen(
    { hostname: "127.0.0.1", port: 5222, reusePort: true },
    (conn) => conn.close(),
  );
  await other.close();
  await assert.rejects(
    memory.net.listen({ hostname: "127.0.0.1", port: 5222 }, (conn) => conn.close()),
    /Address already in use/,
  );
  memory.signals.emit("SIGINT");
  await settle();
  assert.ok(!memory.output.stderr.join("").includes("Stopping on SIGINT"), "SIGINT is ignored");
  memory.signals.emit("SIGTERM");
  assert.equal(await exit, 0);
});

/** Runs `start --nodes 2` on `memory` until every node is up, then stops it with SIGTERM. */
async function startAndStop(memory: ReturnType<typeof memoryAdapters>, adapters = memory.adapters) {
  const ticker = setInterval(() => memory.clock.advance(100), 1);
  try {
    let started!: () => void;
    const running = new Promise<void>((resolve) => started = resolve);
    const exit = runStart("/srv/farm.xml", adapters, {
      nodes: "2",
      hooks: { onNodesStarted: () => started() },
    });
    await Promise.race([running, exit]);
    memory.signals.emit("SIGTERM");
    return await exit;
  } finally {
    clearInterval(ticker);
  }
}

Deno.test("start --nodes 2 uses a NATS server that already answers and starts none", async () => {
  const memory = memoryAdapters({ files: { "/srv/farm.xml": farmConfig() } });
  const nodes: MemoryProgramContext[] = [];
  let natsStarted = false;
  memory.process.register("nats-server", () => {
    natsStarted = true;
  });
  memory.process.register("/memory/jabberd", fakeNode(nodes));
  const running = await memory.net.listen(
    { hostname: "127.0.0.1", port: 4999 },
    (conn) => conn.write("INFO {}\r\n"),
  );
  try {
    assert.equal(await startAndStop(memory), 0);
  } finally {
    await running.close();
  }
  assert.equal(natsStarted, false);
  assert.equal(nodes[0].env.JABBERD_NATS, "nats://127.0.0.1:4999");
});

Deno.test("start --nodes 2 with a NATS server on another machine that does not answer warns and starts the nodes, which retry", async () => {
  const config = farmConfig().replace("nats://127.0.0.1:4999", "nats://10.9.8.7:4222");
  const memory = memoryAdapters({ files: { "/srv/farm.xml": config } });
  const nodes: MemoryProgramContext[] = [];
  memory.process.register("/memory/jabberd", fakeNode(nodes));
  assert.equal(await startAndStop(memory), 0);
  assert.match(
    memory.output.stderr.join(""),
    /No NATS server answers at nats:\/\/10\.9\.8\.7:4222/,
  );
  assert.equal(nodes.length, 2);
  assert.equal(nodes[0].env.JABBERD_NATS, "nats://10.9.8.7:4222");
});

Deno.test("start --nodes 2 where listeners cannot share a port says so and runs one node", async () => {
  const memory = memoryAdapters({ files: { "/srv/farm.xml": farmConfig() } });
  const nodes: MemoryProgramContext[] = [];
  memory.process.register("nats-server", fakeNats(() => memory.adapters, []));
  memory.process.register("/memory/jabberd", fakeNode(nodes));
  const net = memory.adapters.net;
  const noSharing = {
    ...memory.adapters,
    net: {
      listen: (options: Parameters<typeof net.listen>[0], on: Parameters<typeof net.listen>[1]) =>
        options.reusePort
          ? Promise.reject(new Error("Sharing a listening port works on Linux only"))
          : net.listen(options, on),
      connect: net.connect.bind(net),
    },
  };
  assert.equal(await startAndStop(memory, noSharing), 0);
  assert.match(
    memory.output.stderr.join(""),
    /cannot share their listening ports here \(Sharing a listening port works on Linux only\): running 1 node instead of 2/,
  );
  assert.deepEqual(nodes.map((n) => n.env.JABBERD_NODE), ["n1"]);
  assert.ok(!nodes[0].args.includes("--share-ports"), "one node listens without reusePort");
});

Deno.test("--nodes takes the supervisor's own $JABBERD_NODE as the prefix of node ids (a1, a2)", async () => {
  const memory = memoryAdapters({
    files: { "/srv/farm.xml": farmConfig() },
    env: { JABBERD_NODE: "a" },
  });
  const { plan: planned } = await planNodes("/srv/farm.xml", "2", memory.adapters, 4);
  assert.deepEqual(planned?.ids, ["a1", "a2"]);
});

Deno.test("jabberd.example.d/farm.xml is a valid farm config: nodes=auto, one id per node", async () => {
  const text = await Deno.readTextFile(
    new URL("../../jabberd.example.d/farm.xml", import.meta.url),
  );
  const memory = memoryAdapters({
    files: { "/srv/farm.xml": text },
    env: { JABBERD_POSTGRES: "postgres://jabberd@127.0.0.1/jabberd" },
  });
  const { plan: planned, problem } = await planNodes(
    "/srv/farm.xml",
    undefined,
    memory.adapters,
    2,
  );
  assert.equal(problem, undefined);
  assert.deepEqual(planned?.ids, ["n1", "n2"]);
  assert.deepEqual(planned?.natsUrls, ["nats://127.0.0.1:4222"]);
});

Deno.test("start --nodes 2 whose nodes cannot be spawned says so, stops its nats-server and exits 1", async () => {
  const memory = memoryAdapters({ files: { "/srv/farm.xml": farmConfig() } });
  const nats: MemoryProgramContext[] = [];
  memory.process.register("nats-server", fakeNats(() => memory.adapters, nats));
  // No program is registered for the node executable: spawning it throws, as Deno's does.
  const ticker = setInterval(() => memory.clock.advance(100), 1);
  try {
    const code = await runStart("/srv/farm.xml", memory.adapters, { nodes: "2" });
    assert.equal(code, 1);
  } finally {
    clearInterval(ticker);
  }
  assert.match(memory.output.stderr.join(""), /The nodes could not be started: .*not registered/);
  assert.match(memory.output.stderr.join(""), /Stopping nats-server/);
  assert.equal(nats.length, 1);
});
