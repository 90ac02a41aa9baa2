/**
 * `deno task bench --farm`: the farm on this machine (bench/README.md "Farm"). Starts
 * `jabberd start --nodes 1` and `--nodes 2` with bench/farm.xml side by side, each with the
 * nats-server its supervisor starts, logs the same users in to both, and drives them with the
 * comparison's load generator (bench/compare/: accounts, SCRAM logins, `routeOnline`):
 *
 * - the routing rate at maximum (pairs of users, one message in flight per sender, to the
 *   partner's bare JID; with 2 nodes the kernel spread the logins, so about half the pairs
 *   cross nodes) and the server's CPU per 100k messages, counting every server process: the
 *   supervisor, the nodes and nats-server;
 * - the latency at a fixed offered rate of pairs on one node and of pairs split across the two
 *   nodes (which node accepted each client is read from /proc, bench/farm_placement.ts): the
 *   difference is what the hop through NATS adds.
 *
 * Rounds alternate between the two farms, so the machine's other load falls on both; the
 * medians are reported. The generator (this process) is pinned to core 0. The 1-node farm's
 * processes run on core 1; in the 2-node farm n1 runs on core 1 and n2 on core 0 next to the
 * generator (a 2-core machine has no third core), nats-server on either.
 * Flags: --quick, --users=N, --rate=R, --rounds=N.
 */
import { type Account, makeAccounts, xep0227 } from "./compare/accounts.ts";
import { type Client, login } from "./compare/client.ts";
import { type Result, routeOnline, type Target } from "./compare/load.ts";
import { cpuSeconds, spawnLogged } from "./compare/proc.ts";
import { freePort, jabberdImport } from "./compare/servers.ts";
import { nodesOfClients } from "./farm_placement.ts";
import { DenoProcess } from "../src/adapters/deno/process.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const CONFIG = `${ROOT}bench/farm.xml`;
const DOMAIN = "localhost";
const GENERATOR_CORE = "0";

export interface FarmBenchOptions {
  quick: boolean;
  users: number;
  /** The offered rate of the latency runs, messages/s. */
  rate: number;
  seconds: number;
  warmupSeconds: number;
  /** Alternating rounds of every measurement (1 node, then 2 nodes); medians are reported. */
  rounds: number;
}

export function parseFarmArgs(args: string[]): FarmBenchOptions {
  const quick = args.includes("--quick");
  const options: FarmBenchOptions = {
    quick,
    users: quick ? 200 : 1000,
    rate: quick ? 1000 : 2000,
    seconds: quick ? 3 : 10,
    warmupSeconds: quick ? 1 : 2,
    rounds: quick ? 1 : 3,
  };
  for (const arg of args) {
    if (arg === "--farm" || arg === "--quick") continue;
    else if (arg.startsWith("--users=")) options.users = Number(arg.slice(8));
    else if (arg.startsWith("--rate=")) options.rate = Number(arg.slice(7));
    else if (arg.startsWith("--rounds=")) options.rounds = Number(arg.slice(9));
    else {throw new Error(
        `Unknown option ${arg} (the farm bench takes --quick, --users=N, --rate=R, --rounds=N)`,
      );}
  }
  if (!(options.users >= 4) || options.users % 2 !== 0) {
    throw new Error("--users must be an even number of at least 4");
  }
  return options;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function which(command: string): Promise<boolean> {
  try {
    const { success } = await new Deno.Command("which", {
      args: [command],
      stdout: "null",
      stderr: "null",
    }).output();
    return success;
  } catch {
    return false;
  }
}

async function run(command: string, args: string[], env: Record<string, string>) {
  const out = await new Deno.Command(command, { args, env, stdin: "null" }).output();
  if (!out.success) {
    throw new Error(`${command} ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

async function pin(core: string, pid: number): Promise<void> {
  await run("taskset", ["-a", "-pc", core, String(pid)], {});
}

/** A running `jabberd start --nodes N` and the pids of its processes. */
interface RunningFarm {
  supervisor: Deno.ChildProcess;
  nodes: number[];
  nats: number;
  port: number;
  log: string;
  stop(): Promise<void>;
}

async function startFarm(
  dir: string,
  nodes: number,
  accounts: Account[],
  cores: string,
): Promise<RunningFarm> {
  const port = freePort();
  const env = {
    BENCH_PORT: String(port),
    BENCH_DATA: `${dir}/data`,
    BENCH_NATS_PORT: String(freePort()),
    BENCH_DOMAIN: DOMAIN,
    NO_COLOR: "1",
  };
  await Deno.writeTextFile(`${dir}/users.xml`, xep0227(DOMAIN, accounts, false));
  // The config as node n1 reads it (it needs a JABBERD_NODE).
  await jabberdImport(CONFIG, `${dir}/users.xml`, { ...env, JABBERD_NODE: "n1" });
  const log = `${dir}/farm.log`;
  // `jabberd start --nodes N` as the server starts itself (the running Deno, its V8 flags).
  const jabberd = new DenoProcess().selfCommand(["start", "-c", CONFIG, "--nodes", String(nodes)]);
  const { child } = spawnLogged(
    "taskset",
    ["-c", cores, jabberd.command, ...jabberd.args],
    log,
    env,
  );
  const read = () => Deno.readTextFileSync(log);
  const stop = async () => {
    try {
      child.kill("SIGTERM");
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      for (const pid of [child.pid, ...pidsIn(read())]) {
        try {
          Deno.kill(pid, "SIGKILL");
        } catch {
          // Gone.
        }
      }
    }, 30_000);
    await child.status;
    clearTimeout(timer);
  };
  for (let waited = 0; !/All \d+ node\(s\) are up/.test(read()); waited += 100) {
    if (waited > 60_000) {
      await stop();
      throw new Error(`the farm did not come up in 60 s:\n${read().slice(-3000)}`);
    }
    await sleep(100);
  }
  const text = read();
  const nodePids = Array.from(
    { length: nodes },
    (_, i) => Number(text.match(new RegExp(`Started node n${i + 1} \\(pid (\\d+)\\)`))![1]),
  );
  const nats = Number(text.match(/started nats-server \(pid (\d+)\)/)![1]);
  return { supervisor: child, nodes: nodePids, nats, port, log, stop };
}

function pidsIn(text: string): number[] {
  return [...text.matchAll(/\(pid (\d+)\)/g)].map((m) => Number(m[1]));
}

/** Logs every account in with SCRAM-SHA-1, 50 at a time; client i is accounts[i]. */
async function loginAll(port: number, accounts: Account[]): Promise<Client[]> {
  const clients: Client[] = new Array(accounts.length);
  let next = 0;
  const worker = async () => {
    while (next < accounts.length) {
      const i = next++;
      clients[i] = await login(port, DOMAIN, accounts[i], "SCRAM-SHA-1");
    }
  };
  await Promise.all(Array.from({ length: 50 }, worker));
  return clients;
}

function closeAll(clients: Client[]): void {
  for (const c of clients) {
    if (!c.closed) c.send("</stream:stream>");
  }
  setTimeout(() => {
    for (const c of clients) c.close();
  }, 200);
}

/** The clients (and their users) reordered so that client 2k and 2k+1 are the pairs given. */
function paired(pairs: [number, number][], clients: Client[], accounts: Account[]) {
  const order = pairs.flat();
  return { clients: order.map((i) => clients[i]), users: order.map((i) => accounts[i].user) };
}

/** A farm under load: its processes, its clients online, which node took each client. */
interface Loaded {
  name: string;
  farm: RunningFarm;
  dir: string;
  target: Target;
  clients: Client[];
  /** Client indexes by node (in `farm.nodes` order). */
  on: number[][];
}

async function load(
  nodes: number,
  accounts: Account[],
  cores: string,
): Promise<Loaded> {
  const dir = await Deno.makeTempDir({ prefix: `bench-farm-${nodes}-` });
  const name = `${nodes} node${nodes > 1 ? "s" : ""}`;
  const farm = await startFarm(dir, nodes, accounts, cores);
  const target: Target = {
    name,
    pid: farm.supervisor.pid,
    port: farm.port,
    domain: DOMAIN,
    pids: [farm.supervisor.pid, ...farm.nodes, farm.nats],
  };
  const started = performance.now();
  const clients = await loginAll(farm.port, accounts);
  const ports = clients.map((c) => (c.conn.localAddr as Deno.NetAddr).port);
  const placed = nodesOfClients(farm.port, ports, farm.nodes);
  const on = farm.nodes.map((pid) => placed.flatMap((p, i) => (p === pid ? [i] : [])));
  console.error(
    `== ${name}: ${clients.length} logins in ${
      ((performance.now() - started) / 1000).toFixed(1)
    } s; clients per node ${on.map((list) => list.length).join(" + ")} ` +
      `(${placed.filter((p) => p === undefined).length} unknown); temp folder ${dir}`,
  );
  return { name, farm, dir, target, clients, on };
}

async function unload(loaded: Loaded): Promise<void> {
  closeAll(loaded.clients);
  await sleep(500);
  await loaded.farm.stop();
  await Deno.remove(loaded.dir, { recursive: true }).catch(() => {});
}

/**
 * One `routeOnline` on `pairs` of a loaded farm: its results with `suffix` on each metric and,
 * in the note, each server process's share of the CPU used.
 */
async function route(
  loaded: Loaded,
  accounts: Account[],
  pairs: [number, number][],
  options: FarmBenchOptions,
  measure: { rates: number[]; forms: ("bare" | "full")[] },
  suffix: string,
): Promise<Result[]> {
  const { target, clients, farm } = loaded;
  const names = ["supervisor", ...farm.nodes.map((_, i) => `n${i + 1}`), "nats-server"];
  const ordered = paired(pairs, clients, accounts);
  const before = target.pids!.map((pid) => cpuSeconds(pid));
  const measured = await routeOnline(target, ordered.clients, ordered.users, {
    seconds: options.seconds,
    warmupSeconds: options.warmupSeconds,
    ...measure,
  });
  const used = target.pids!.map((pid, i) => cpuSeconds(pid) - before[i]);
  const total = used.reduce((a, b) => a + b, 0);
  const shares = used.map((cpu, i) => `${names[i]} ${Math.round((100 * cpu) / total)}%`);
  return measured.map((r) => ({
    ...r,
    metric: r.metric + suffix,
    note: `${pairs.length} pairs; server CPU by process: ${shares.join(", ")}; ${r.note ?? ""}`,
  }));
}

/** Pairs as the accounts come (u0–u1, u2–u3, …): with 2 nodes, about half cross nodes. */
const inOrder = (count: number) =>
  Array.from({ length: count / 2 }, (_, k) => [2 * k, 2 * k + 1] as [number, number]);

/** Pairs whose two clients are on the same node. */
const onOneNode = (on: number[][]) =>
  on.flatMap((list) =>
    Array.from(
      { length: Math.floor(list.length / 2) },
      (_, k) => [list[2 * k], list[2 * k + 1]] as [number, number],
    )
  );

/** Pairs with one client on each of the first two nodes. */
const acrossNodes = (on: number[][]) =>
  Array.from(
    { length: Math.min(on[0].length, on[1].length) },
    (_, k) => [on[0][k], on[1][k]] as [number, number],
  );

/**
 * Every measurement, in alternating rounds (1 node, 2 nodes, 1 node, …) while both farms stay
 * up, so that the other load on the machine falls on both alike; the medians are reported.
 */
async function measureAll(accounts: Account[], options: FarmBenchOptions): Promise<Result[]> {
  const results: Result[] = [];
  const one = await load(1, accounts, "1");
  let two: Loaded | undefined;
  try {
    two = await load(2, accounts, "0,1");
    await pin("1", two.farm.nodes[0]);
    await pin("0", two.farm.nodes[1]);
    const max = { rates: [], forms: ["bare"] as ("bare" | "full")[] };
    const fixed = { rates: [options.rate], forms: [] };
    for (let round = 1; round <= options.rounds; round++) {
      console.error(`-- round ${round} of ${options.rounds}`);
      const add = (list: Result[]) => {
        for (const r of list) {
          results.push(r);
          report(r);
        }
      };
      add(await route(one, accounts, inOrder(one.clients.length), options, max, ""));
      add(await route(two, accounts, inOrder(two.clients.length), options, max, ""));
      add(await route(one, accounts, onOneNode(one.on), options, fixed, ", pairs on one node"));
      add(await route(two, accounts, onOneNode(two.on), options, fixed, ", pairs on one node"));
      add(
        await route(two, accounts, acrossNodes(two.on), options, fixed, ", pairs across nodes"),
      );
    }
  } finally {
    await unload(one);
    if (two) await unload(two);
  }
  return results;
}

function report(r: Result): void {
  console.error(
    `  ${r.server}: ${r.metric} = ${fmt(r.value)} ${r.unit}` +
      (r.serverCpu !== undefined ? ` (server CPU ${r.serverCpu.toFixed(0)}%` : "") +
      (r.generatorCpu !== undefined
        ? `, generator CPU ${r.generatorCpu.toFixed(0)}%)`
        : r.serverCpu !== undefined
        ? ")"
        : "") +
      (r.note ? ` [${r.note}]` : ""),
  );
}

const median = (values: number[]) => {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  return sorted.length === 0 ? NaN : sorted[Math.floor((sorted.length - 1) / 2)];
};

const fmt = (v: number | undefined) =>
  v === undefined || !Number.isFinite(v)
    ? "—"
    : v >= 100
    ? Math.round(v).toLocaleString("en")
    : v.toFixed(2);

export async function benchFarm(options: FarmBenchOptions): Promise<void> {
  const missing = [];
  if (!await which("nats-server")) missing.push("nats-server (Debian package nats-server)");
  if (!await which("taskset")) missing.push("taskset (util-linux)");
  if (missing.length > 0) {
    console.log(`SKIPPED the farm bench: missing ${missing.join(" and ")}`);
    return;
  }
  await run("taskset", ["-a", "-pc", GENERATOR_CORE, String(Deno.pid)], {});
  console.error(`Deriving ${options.users} SCRAM-SHA-1 credentials…`);
  const accounts = await makeAccounts(options.users);
  const all = await measureAll(accounts, options);
  /** The median over the rounds, and every round's value. */
  const get = (server: string, metric: string) => {
    const values = all.filter((r) => r.server === server && r.metric === metric)
      .map((r) => r.value);
    return { median: median(values), values };
  };
  const metrics = [...new Set(all.map((r) => r.metric))];
  const table = metrics.map((metric) => {
    const one = get("1 node", metric), two = get("2 nodes", metric);
    const rounds = (v: number[]) => v.length > 1 ? ` (${v.map(fmt).join(", ")})` : "";
    return {
      metric,
      "1 node": fmt(one.median) + rounds(one.values),
      "2 nodes": fmt(two.median) + rounds(two.values),
      "2 ÷ 1": `${(two.median / one.median).toFixed(2)}×`.replace("NaN×", "—"),
    };
  });
  // The hop of each round (cross and same pairs measured one after the other), then the median.
  const p50 = (kind: string) =>
    get("2 nodes", `p50 latency at ${options.rate} messages/s, bare JID, pairs ${kind}`).values;
  const across = p50("across nodes"), same = p50("on one node");
  const hops = across.map((value, i) => value - same[i]);
  const hop = median(hops);
  console.log(
    `\nFarm (${options.quick ? "quick" : "full"} run; ${options.users} users in pairs; ` +
      `medians of ${options.rounds} alternating rounds, each round's value in brackets; ` +
      "generator pinned to core 0; 1 node: its processes on core 1; 2 nodes: n1 on core 1, " +
      "n2 on core 0 with the generator, nats-server on either; server CPU counts the " +
      "supervisor, the nodes and nats-server)",
  );
  console.table(table);
  console.log(
    `Cross-node hop at ${options.rate} messages/s, p50 across nodes − p50 on one node ` +
      `(2 nodes), median of the rounds: ${fmt(hop)} ms${
        hops.length > 1 ? ` (${hops.map(fmt).join(", ")})` : ""
      } (goal ≤ 0.5 ms)`,
  );
  const rate = (server: string) => get(server, "routed messages/s at max, bare JID").median;
  console.log(
    `2 nodes ÷ 1 node, routed messages/s at max: ${
      (rate("2 nodes") / rate("1 node")).toFixed(2)
    }× (goal ≥ 1.6×)`,
  );
}

if (import.meta.main) {
  await benchFarm(parseFarmArgs(Deno.args));
}
