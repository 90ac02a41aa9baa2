/**
 * A CPU profile of two farm nodes under cross-node load (bench/README.md "Farm"):
 *
 *   deno run -A bench/farm_profile.ts [--users=400] [--rate=2000|max] [--seconds=10] [--out=DIR]
 *
 * Deno 2.9 has no `--cpu-prof`, and the nodes of `jabberd start --nodes 2` are started by the
 * supervisor without flags, so this starts the two nodes itself: `deno run --inspect` on
 * bench/farm.xml with `--supervised` (no pidfile, stops when its standard input ends), each on
 * a port of its own, so every pair has one user on n1 and one on n2 and every message crosses.
 * It then records both nodes with the V8 inspector (`Profiler.start` / `Profiler.stop` over the
 * DevTools protocol), writes `n1.cpuprofile` and `n2.cpuprofile` (open them in Chrome's DevTools)
 * and prints each node's heaviest functions by self time and the share of each source file. It
 * also listens on the nodes' subjects and counts the NATS messages and the packets they carry
 * (batch.ts), so the average batch is known.
 * The figures of a profiled run are not measurements: the bench is `deno task bench --farm`.
 */
import { type Account, makeAccounts, xep0227 } from "./compare/accounts.ts";
import { type Client, login } from "./compare/client.ts";
import { routeOnline, type Target } from "./compare/load.ts";
import { freePort } from "./compare/servers.ts";
import { startNats } from "../src/adapters/nats/_testing.ts";
import { NatsClientAdapter } from "../src/adapters/nats/client.ts";
import { HOPS_ATTR } from "../src/link/wire.ts";
import { V8_FLAGS_ARGUMENT } from "../src/adapters/deno/v8_flags.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const CONFIG = `${ROOT}bench/farm.xml`;
const DOMAIN = "localhost";
const READY = "jabberd: this supervised node is up";

interface Options {
  users: number;
  /** Messages/s offered, or undefined: the maximum rate (one message in flight per sender). */
  rate: number | undefined;
  seconds: number;
  out: string;
}

function parseArgs(args: string[]): Options {
  const options: Options = { users: 400, rate: 2000, seconds: 10, out: "bench/results/profile" };
  for (const arg of args) {
    const [name, value] = arg.split("=", 2);
    if (name === "--users") options.users = Number(value);
    else if (name === "--rate") options.rate = value === "max" ? undefined : Number(value);
    else if (name === "--seconds") options.seconds = Number(value);
    else if (name === "--out") options.out = value;
    else {
      throw new Error(
        `Unknown option ${arg} (farm_profile takes --users=N, --rate=R|max, --seconds=N, --out=DIR)`,
      );
    }
  }
  if (!(options.users >= 4) || options.users % 2 !== 0) {
    throw new Error("--users must be an even number of at least 4");
  }
  if (options.rate !== undefined && !(options.rate > 0)) throw new Error("--rate must be > 0");
  if (!(options.seconds > 0)) throw new Error("--seconds must be > 0");
  return options;
}

/** A node started with the inspector on, its output appended to `log`. */
interface Node {
  name: string;
  port: number;
  inspect: number;
  child: Deno.ChildProcess;
  /** Closing it ends the node (a supervised node stops when its standard input ends). */
  stdin: WritableStreamDefaultWriter<Uint8Array>;
  ready: Promise<void>;
}

function startNode(name: string, env: Record<string, string>, log: string): Node {
  const port = freePort();
  const inspect = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      `--inspect=127.0.0.1:${inspect}`,
      "-A",
      V8_FLAGS_ARGUMENT,
      `${ROOT}main.ts`,
      "start",
      "-c",
      CONFIG,
      "--supervised",
    ],
    env: { ...env, JABBERD_NODE: name, BENCH_PORT: String(port) },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const file = Deno.openSync(log, { write: true, create: true, append: true });
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => markReady = resolve);
  const copy = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    let seen = "";
    try {
      for await (const chunk of stream) {
        file.writeSync(chunk);
        if (seen.length < 100_000) {
          seen += decoder.decode(chunk, { stream: true });
          if (seen.includes(READY)) markReady();
        }
      }
    } catch {
      // Closed.
    }
  };
  Promise.all([copy(child.stdout), copy(child.stderr)]).finally(() => file.close());
  return { name, port, inspect, child, stdin: child.stdin.getWriter(), ready };
}

/** A DevTools protocol session with one node's inspector. */
class Inspector {
  #socket: WebSocket;
  #next = 1;
  #waiting = new Map<number, (message: { result?: unknown; error?: unknown }) => void>();

  private constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      this.#waiting.get(message.id)?.(message);
      this.#waiting.delete(message.id);
    };
  }

  static async open(port: number): Promise<Inspector> {
    const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
    const socket = new WebSocket(targets[0].webSocketDebuggerUrl);
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = reject;
    });
    return new Inspector(socket);
  }

  call<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.#next++;
    this.#socket.send(JSON.stringify({ id, method, params }));
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, (message) => {
        if (message.error) reject(new Error(`${method}: ${JSON.stringify(message.error)}`));
        else resolve(message.result as T);
      });
    });
  }

  close(): void {
    this.#socket.close();
  }
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
}

/** The heaviest functions by self samples, and the share of each source file. */
function summarize(name: string, profile: Profile, top = 25): string {
  const total = profile.nodes.reduce((sum, node) => sum + (node.hitCount ?? 0), 0);
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url.replace(/^file:\/\/.*?\/(src|bench|node_modules|main\.ts)/, "$1")
      .replace(/^.*\/node_modules\/\.deno\/([^/]+)\/.*$/, "npm:$1") || "(native/VM)";
    const key = `${functionName || "(anonymous)"}  ${file}:${lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + hits);
    byFile.set(file, (byFile.get(file) ?? 0) + hits);
  }
  const percent = (hits: number) => `${((100 * hits) / total).toFixed(1).padStart(5)}%`;
  const lines = [`== ${name}: ${total} samples`, "-- heaviest functions (self):"];
  for (const [key, hits] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    lines.push(`${percent(hits)}  ${key}`);
  }
  lines.push("-- by source file (self):");
  for (const [file, hits] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    lines.push(`${percent(hits)}  ${file}`);
  }
  return lines.join("\n");
}

/** Counts the messages on every node's subject (bench/farm.xml's farm) and their packets. */
async function countBatches(url: string) {
  const link = await new NatsClientAdapter().connect({ servers: [url], name: "farm_profile" });
  const decoder = new TextDecoder();
  const marker = new RegExp(` ${HOPS_ATTR}=`, "g");
  let messages = 0, packets = 0, counting = true;
  // `FarmNames.node()` escapes "*" like any id character: the wildcard is written out here.
  const stop = link.subscribe("jabberd.jabberd.node.*", (message) => {
    if (!counting) return;
    messages++;
    packets += decoder.decode(message.data).match(marker)?.length ?? 0;
  });
  return {
    messages: () => messages,
    packets: () => packets,
    stop: () => {
      counting = false;
      stop();
      link.close();
    },
  };
}

async function loginAll(accounts: Account[], portOf: (i: number) => number): Promise<Client[]> {
  const clients: Client[] = new Array(accounts.length);
  let next = 0;
  const worker = async () => {
    while (next < accounts.length) {
      const i = next++;
      clients[i] = await login(portOf(i), DOMAIN, accounts[i], "SCRAM-SHA-1");
    }
  };
  await Promise.all(Array.from({ length: 50 }, worker));
  return clients;
}

async function main(options: Options): Promise<void> {
  const nats = await startNats();
  if (typeof nats === "string") throw new Error(nats);
  const dir = await Deno.makeTempDir({ prefix: "bench-farm-profile-" });
  const nodes: Node[] = [];
  let clients: Client[] = [];
  try {
    const env = {
      BENCH_DATA: `${dir}/data`,
      BENCH_NATS_PORT: String(nats.port),
      BENCH_DOMAIN: DOMAIN,
      NO_COLOR: "1",
    };
    console.error(`Deriving ${options.users} SCRAM-SHA-1 credentials…`);
    const accounts = await makeAccounts(options.users);
    await Deno.writeTextFile(`${dir}/users.xml`, xep0227(DOMAIN, accounts, false));
    const imported = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", `${ROOT}main.ts`, "import", "-c", CONFIG, `${dir}/users.xml`],
      env: { ...env, JABBERD_NODE: "n1" },
      stdin: "null",
    }).output();
    if (!imported.success) throw new Error(new TextDecoder().decode(imported.stderr));
    // n1 first: it makes the first-start files (certificates) the second one then reads.
    for (const name of ["n1", "n2"]) {
      const node = startNode(name, env, `${dir}/${name}.log`);
      nodes.push(node);
      const late = setTimeout(() => {}, 60_000);
      await Promise.race([
        node.ready,
        node.child.status.then(() => {
          throw new Error(`${name} stopped: ${Deno.readTextFileSync(`${dir}/${name}.log`)}`);
        }),
      ]).finally(() => clearTimeout(late));
    }
    // Client 2k on n1, 2k+1 on n2: every pair crosses.
    clients = await loginAll(accounts, (i) => nodes[i % 2].port);
    console.error(`== ${clients.length} users online, half on each node; profiling`);
    const { packets, messages, stop: stopCounting } = await countBatches(nats.url);
    const inspectors = await Promise.all(nodes.map((node) => Inspector.open(node.inspect)));
    for (const inspector of inspectors) {
      await inspector.call("Profiler.enable");
      await inspector.call("Profiler.setSamplingInterval", { interval: 200 });
      await inspector.call("Profiler.start");
    }
    const target: Target = {
      name: "2 nodes",
      pid: nodes[0].child.pid,
      port: nodes[0].port,
      domain: DOMAIN,
      pids: [...nodes.map((node) => node.child.pid), nats.pid!],
    };
    const results = await routeOnline(target, clients, accounts.map((a) => a.user), {
      seconds: options.seconds,
      warmupSeconds: 1,
      rates: options.rate === undefined ? [] : [options.rate],
      forms: options.rate === undefined ? ["bare"] : [],
    });
    await Deno.mkdir(options.out, { recursive: true });
    for (const [i, inspector] of inspectors.entries()) {
      const { profile } = await inspector.call<{ profile: Profile }>("Profiler.stop");
      inspector.close();
      const file = `${options.out}/${nodes[i].name}.cpuprofile`;
      await Deno.writeTextFile(file, JSON.stringify(profile));
      console.log(summarize(`${nodes[i].name} (${file})`, profile));
    }
    stopCounting();
    console.log(
      `${messages()} NATS messages between the nodes carried ${packets()} packets: ` +
        `${(packets() / Math.max(1, messages())).toFixed(2)} packets per message`,
    );
    for (const result of results) {
      console.log(
        `(profiled, not a measurement) ${result.metric} = ${result.value} ${result.unit}`,
      );
    }
  } finally {
    for (const client of clients) client.close();
    for (const node of nodes) {
      await node.stdin.close().catch(() => {});
      const kill = setTimeout(() => node.child.kill("SIGKILL"), 20_000);
      await node.child.status;
      clearTimeout(kill);
    }
    await nats.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await main(parseArgs(Deno.args));
