/**
 * `deno task bench --compare`: our server against Prosody and ejabberd on this machine, same
 * load, one core each (see bench/README.md). Prints one table (ours, theirs, ratio) and writes
 * the raw results as JSON lines to bench/results/.
 *
 * Flags: --quick (fewer users and messages, about a minute per server), --servers=ours,prosody,
 * ejabberd (default all), --cpu-prof=DIR (profile our server; the .cpuprofile lands in DIR),
 * --no-micro (skip the microbenchmarks), --phases=memory,logins,routing (default all),
 * --no-archive-off (with archiving on, skip the second routing measurement with archiving off).
 */
import { benchDeliveryTree } from "../delivery_tree.ts";
import { benchSmRouting } from "../sm_routing.ts";
import { benchXmlParser } from "../xml_parser.ts";
import { makeAccounts } from "./accounts.ts";
import { scramStats } from "./client.ts";
import { loginPhase, memoryPhase, type Result, routingPhase, type Target } from "./load.ts";
import { ALL, ARCHIVING, DOMAIN, killAll, type Running } from "./servers.ts";

const GENERATOR_CORE = "0";

export interface CompareOptions {
  quick: boolean;
  servers: string[];
  cpuProfDir?: string;
  micro: boolean;
  /** The phases to run (all by default): memory, logins, routing. */
  phases: Set<string>;
  /**
   * With archiving on (the default), routing is measured once more on a second instance of each
   * server with archiving off; `--no-archive-off` skips that.
   */
  archiveOff: boolean;
}

export function parseArgs(args: string[]): CompareOptions {
  const options: CompareOptions = {
    quick: false,
    servers: ["ours", "prosody", "ejabberd"],
    micro: true,
    phases: new Set(["memory", "logins", "routing"]),
    archiveOff: true,
  };
  for (const arg of args) {
    if (arg === "--compare") continue;
    else if (arg === "--quick") options.quick = true;
    else if (arg === "--no-micro") options.micro = false;
    else if (arg === "--no-archive-off") options.archiveOff = false;
    else if (arg.startsWith("--servers=")) options.servers = arg.slice(10).split(",");
    else if (arg.startsWith("--cpu-prof=")) options.cpuProfDir = arg.slice(11);
    else if (arg.startsWith("--phases=")) options.phases = new Set(arg.slice(9).split(","));
    else throw new Error(`Unknown option ${arg}`);
  }
  for (const s of options.servers) {
    if (!ALL[s]) throw new Error(`Unknown server ${s}: write ours, prosody or ejabberd`);
  }
  return options;
}

const fmt = (v: number) =>
  !Number.isFinite(v)
    ? "—"
    : Math.abs(v) >= 100
    ? Math.round(v).toLocaleString("en")
    : Math.abs(v) >= 10
    ? v.toFixed(1)
    : v.toFixed(2);

/** Metrics where a smaller number is better. */
const lowerIsBetter = (metric: string) => /latency|CPU-s|CPU-ms|CPU µs|memory/.test(metric);

export async function compare(options: CompareOptions): Promise<void> {
  // The generator (this process, all its threads) takes core 0; servers take core 1.
  await new Deno.Command("taskset", {
    args: ["-a", "-pc", GENERATOR_CORE, String(Deno.pid)],
    stdout: "null",
  }).output();
  const q = options.quick;
  const plan = {
    logins: q ? 300 : 2000,
    users: q ? 200 : 1000,
    seconds: q ? 3 : 10,
    warmup: q ? 1 : 2,
    rates: [2000, 5000],
    levels: q ? [500, 1000] : [1000, 5000, 10000],
  };
  // `u…` accounts (no roster) for the login rates and routing, `r…` accounts with rosters of
  // ROSTER_SIZE for the memory phase and the logins that fetch the roster.
  const plainCount = Math.max(2 * plan.logins, plan.users);
  const rosterCount = Math.max(plan.logins, ...plan.levels);
  const accountCount = plainCount + rosterCount;
  const resultsDir = new URL("../results/", import.meta.url).pathname;
  await Deno.mkdir(resultsDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
  const jsonl = `${resultsDir}compare-${stamp}${q ? "-quick" : ""}.jsonl`;
  const results: Result[] = [];
  const record = async (r: Result) => {
    results.push(r);
    await Deno.writeTextFile(
      jsonl,
      JSON.stringify({ time: new Date().toISOString(), ...r }) + "\n",
      {
        append: true,
      },
    );
    console.error(
      `  ${r.server}: ${r.metric} = ${fmt(r.value)} ${r.unit}` +
        (r.generatorCpu !== undefined ? ` (generator CPU ${r.generatorCpu.toFixed(0)}%)` : "") +
        (r.serverCpu !== undefined ? ` (server CPU ${r.serverCpu.toFixed(0)}%)` : "") +
        (r.note ? ` [${r.note}]` : ""),
    );
  };

  console.error(`Deriving ${accountCount} SCRAM-SHA-1 credentials (4096 iterations)…`);
  const users = await makeAccounts(plainCount);
  const withRosters = await makeAccounts(rosterCount, "r", true);
  const accounts = [...users, ...withRosters];
  const names: string[] = [];
  const skipped: string[] = [];
  const tempDirs: string[] = [];
  const onSignal = () => {
    killAll().finally(() => {
      for (const d of tempDirs) {
        try {
          Deno.removeSync(d, { recursive: true });
        } catch {
          // Gone.
        }
      }
      Deno.exit(130);
    });
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  try {
    for (const key of options.servers) {
      const kind = ALL[key];
      const missing = await kind.missing();
      if (missing) {
        console.error(`SKIPPED ${kind.name}: ${missing}`);
        skipped.push(`${kind.name}: ${missing}`);
        continue;
      }
      names.push(kind.name);
      const dir = await Deno.makeTempDir({ prefix: `bench-${key}-` });
      tempDirs.push(dir);
      let server: Running | undefined;
      console.error(`== ${kind.name} (temp folder ${dir})`);
      const phase = async (label: string, fn: () => Promise<Result[]>) => {
        try {
          for (const r of await fn()) await record(r);
        } catch (error) {
          console.error(`  ${kind.name}: ${label} failed: ${error}`);
          await record({
            server: kind.name,
            metric: label,
            value: NaN,
            unit: "",
            note: String(error),
          });
        }
      };
      /** The routing phase; its figures say whether the server archived. */
      const routing = async (target: Target, archiving: boolean) =>
        (await routingPhase(target, users, {
          users: plan.users,
          seconds: plan.seconds,
          warmupSeconds: plan.warmup,
          rates: plan.rates,
          deadlineMs: 60_000,
        })).map((r) => ({ ...r, metric: `${r.metric}, archiving ${archiving ? "on" : "off"}` }));
      try {
        server = await kind.start(dir, accounts, (seconds, how) => {
          console.error(`  ${accountCount} accounts in ${seconds.toFixed(1)} s (${how})`);
        }, { cpuProfDir: key === "ours" ? options.cpuProfDir : undefined });
        const running = server;
        const target = () => ({
          name: kind.name,
          pid: running.pid,
          port: running.port,
          domain: DOMAIN,
        });
        // First, on a fresh server: RSS before any session is the server's own. Users with
        // rosters of ROSTER_SIZE, each login broadcasting presence to the contacts online.
        if (options.phases.has("memory")) {
          await phase(
            "memory",
            () => memoryPhase(target(), withRosters, plan.levels, q ? 60_000 : 240_000),
          );
          // The logins that follow are the first reads of each account since the start.
          await running.restart();
        }
        if (options.phases.has("logins")) {
          const deadlineMs = q ? 60_000 : 120_000;
          const runs = [
            { mechanism: "PLAIN", from: 0, cache: "cold", list: users },
            { mechanism: "SCRAM-SHA-1", from: plan.logins, cache: "cold", list: users },
            { mechanism: "SCRAM-SHA-1", from: 0, cache: "cold", list: withRosters, roster: true },
            { mechanism: "PLAIN", from: 0, cache: "warm", list: users },
            { mechanism: "SCRAM-SHA-1", from: plan.logins, cache: "warm", list: users },
          ] as const;
          for (const run of runs) {
            const { list, ...rest } = run;
            await phase(`logins ${run.mechanism} ${run.cache}`, () =>
              loginPhase(target(), list, {
                ...rest,
                count: plan.logins,
                concurrency: 50,
                deadlineMs,
              }));
          }
        }
        if (options.phases.has("routing")) {
          await phase("routing", () => routing(target(), ARCHIVING));
        }
      } catch (error) {
        console.error(`  ${kind.name} failed: ${error}`);
        if (server) console.error(await server.logTail());
        else {
          for (const f of Deno.readDirSync(dir)) {
            if (/\.(log|out)$/.test(f.name)) {
              console.error((await Deno.readTextFile(`${dir}/${f.name}`)).slice(-3000));
            }
          }
        }
        await record({
          server: kind.name,
          metric: "start",
          value: NaN,
          unit: "",
          note: String(error),
        });
      } finally {
        await server?.stop();
        await killAll();
      }
      // Routing once more with archiving off in every server, as servers are usually compared:
      // a second instance of the same server, with the routing accounts only.
      if (options.phases.has("routing") && ARCHIVING && options.archiveOff) {
        const offDir = `${dir}/archiving-off`;
        await Deno.mkdir(offDir);
        let off: Running | undefined;
        try {
          off = await kind.start(offDir, users, () => {}, { archiving: false });
          const started = off;
          await phase(
            "routing, archiving off",
            () =>
              routing(
                { name: kind.name, pid: started.pid, port: started.port, domain: DOMAIN },
                false,
              ),
          );
        } catch (error) {
          console.error(`  ${kind.name} without archiving failed: ${error}`);
          if (off) console.error(await off.logTail());
        } finally {
          await off?.stop();
          await killAll();
        }
      }
      // BENCH_KEEP=1 keeps the server's folder (its log, e.g. with BENCH_V8_FLAGS=--trace-gc).
      if (Deno.env.get("BENCH_KEEP")) console.error(`  kept ${dir}`);
      else await Deno.remove(dir, { recursive: true }).catch(() => {});
    }
  } finally {
    await killAll();
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
  if (scramStats.cacheMisses > 0) {
    console.error(`Note: ${scramStats.cacheMisses} SCRAM logins had to derive (salt changed)`);
  }

  if (options.micro) {
    console.error("Microbenchmarks (ours only)…");
    for (const row of await benchXmlParser()) {
      await record({
        server: "jabberd (ours)",
        metric: `XML parser ${row.name} stanzas/s`,
        value: row.stanzasPerSecond,
        unit: "stanzas/s",
      });
    }
    for (const row of await benchSmRouting()) {
      await record({
        server: "jabberd (ours)",
        metric: `sm ${row.case}, CPU µs per message`,
        value: row.cpuMicrosecondsPerMessage,
        unit: "µs",
      });
    }
    for (const row of benchDeliveryTree()) {
      await record({
        server: "jabberd (ours)",
        metric: `delivery tree ${row.case} packets/s`,
        value: row.packetsPerSecond,
        unit: "packets/s",
      });
    }
  }

  // One table: a row per metric, a column per server, ratios ours ÷ theirs.
  const metrics = [...new Set(results.filter((r) => r.unit).map((r) => r.metric))];
  const ourName = "jabberd (ours)";
  const others = names.filter((n) => n !== ourName);
  const table = metrics.map((metric) => {
    const get = (server: string) => results.find((r) => r.server === server && r.metric === metric);
    const ours = get(ourName);
    const row: Record<string, string> = {
      metric: `${metric} (${lowerIsBetter(metric) ? "lower" : "higher"} is better)`,
      ours: ours ? fmt(ours.value) : "—",
    };
    for (const other of others) {
      const theirs = get(other);
      row[other] = theirs ? fmt(theirs.value) : "—";
      row[`ours/${other}`] = ours && theirs && Number.isFinite(ours.value / theirs.value)
        ? `${(ours.value / theirs.value).toFixed(2)}×`
        : "—";
    }
    return row;
  });
  console.log(
    `\nComparison (${q ? "quick" : "full"} run; each server on core 1, generator on core 0; ` +
      `${plan.logins} logins at concurrency 50, ${plan.users} users routing in pairs)`,
  );
  console.table(table);
  const maxGen = Math.max(0, ...results.map((r) => r.generatorCpu ?? 0));
  console.log(`Highest load-generator CPU use in a phase: ${maxGen.toFixed(0)}% of core 0`);
  for (const s of skipped) console.log(`SKIPPED ${s}`);
  console.log(`Raw results: ${jsonl}`);
}

if (import.meta.main) {
  await compare(parseArgs(Deno.args));
}
