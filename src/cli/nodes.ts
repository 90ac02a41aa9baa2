/**
 * `jabberd start --nodes N` (or `<farm nodes="N|auto">`): this process becomes the supervisor
 * of N nodes of the same config on this machine (README "Running a farm"). It writes the
 * pidfile, checks that the runtime can share ports, makes sure a NATS server answers (starting
 * a local `nats-server` when the config's one is on loopback and silent), runs the nodes
 * (src/cli/supervisor.ts) and on SIGTERM/SIGINT stops them, then NATS, and exits 0.
 */
import type { Adapters } from "../adapters/types.ts";
import { dirname } from "../server/server.ts";
import {
  isLoopback,
  type LocalNats,
  natsAddress,
  natsAnswers,
  startLocalNats,
} from "./local_nats.ts";
import type { NodePlan } from "./node_plan.ts";
import { pidfilePath, type ProcessControl, readPidfile, writePidfile } from "./pidfile.ts";
import { Supervisor, type SupervisorOptions } from "./supervisor.ts";
import { whyPortsCannotBeShared } from "./supervised.ts";

export interface NodesOptions {
  /** `-c FILE` as given, passed on to the nodes. */
  option: string | undefined;
  keepGoing: boolean;
  processes?: ProcessControl;
  /** Called once every node was started (tests reach the supervisor through it). */
  onStarted?(supervisor: Supervisor, nats: LocalNats | undefined): void;
  /** Overrides of the supervisor's timings (tests). */
  timings?: Partial<
    Pick<SupervisorOptions, "firstDelayMs" | "maxDelayMs" | "stableMs" | "stopTimeoutMs">
  >;
}

export async function runNodes(
  plan: NodePlan,
  adapters: Adapters,
  { option, keepGoing, processes, onStarted, timings }: NodesOptions,
): Promise<number> {
  const log = (type: string, text: string) =>
    adapters.stderr(`${new Date(adapters.clock.now()).toISOString()} supervisor ${type} ${text}\n`);
  const pidfile = pidfilePath(plan.config);
  if (processes) {
    const earlier = await readPidfile(pidfile, adapters);
    if (earlier !== undefined && earlier !== processes.pid && processes.isRunning(earlier)) {
      adapters.stderr(
        `jabberd is already running as pid ${earlier} (pidfile ${pidfile}); stop it with ` +
          "jabberd stop, or give this one another <pidfile>\n",
      );
      return 1;
    }
  }
  let ids = plan.ids;
  if (ids.length > 1) {
    const why = await whyPortsCannotBeShared(adapters);
    if (why !== undefined) {
      log(
        "warn",
        `The nodes cannot share their listening ports here (${why}): running 1 node instead ` +
          `of ${ids.length}`,
      );
      ids = ids.slice(0, 1);
    }
  }
  let nats: LocalNats | undefined;
  let natsUrl = plan.natsUrls.join(",");
  try {
    nats = await ensureNats(plan, adapters, log);
    if (nats) natsUrl = nats.url;
  } catch (error) {
    adapters.stderr(`${error instanceof Error ? error.message : error}; not starting\n`);
    return 1;
  }
  if (processes) await writePidfile(pidfile, processes.pid, adapters);
  const args = ["start", ...(option !== undefined ? ["-c", option] : [])];
  if (keepGoing) args.push("--keep-going");
  args.push("--supervised");
  // One node has nobody to share its ports with (and may run where they cannot be shared).
  if (ids.length > 1) args.push("--share-ports");
  const supervisor = new Supervisor(adapters, {
    ids,
    args,
    env: { JABBERD_NATS: natsUrl },
    log,
    ...timings,
  });
  log("notice", `Starting ${ids.length} node(s) [${ids.join(", ")}], NATS at ${natsUrl}`);
  return await new Promise<number>((resolve) => {
    const offs: (() => void)[] = [];
    let stopping: Promise<void> | undefined;
    const stop = (why: string, code?: number) =>
      stopping ??= (async () => {
        for (const off of offs.splice(0)) off();
        log("notice", `Stopping the nodes: ${why}`);
        const clean = await supervisor.stop();
        if (nats) {
          log("notice", `Stopping nats-server (pid ${nats.pid})`);
          await nats.stop();
        }
        if (processes && await readPidfile(pidfile, adapters) === processes.pid) {
          await processes.removeFile(pidfile);
        }
        log("notice", clean ? "Every node stopped" : "Every node stopped, some only by SIGKILL");
        resolve(code ?? (clean ? 0 : 1));
      })();
    offs.push(
      adapters.signals.on("SIGTERM", () => stop("SIGTERM")),
      adapters.signals.on("SIGINT", () => stop("SIGINT")),
      adapters.signals.on("SIGHUP", () => {
        log("notice", "SIGHUP: passed on to every node");
        supervisor.signal("SIGHUP");
      }),
    );
    supervisor.start().then((up) => {
      if (up) log("notice", `All ${ids.length} node(s) are up`);
      onStarted?.(supervisor, nats);
    }, (error) => {
      // Not even the first node could be spawned (the executable is missing).
      adapters.stderr(`The nodes could not be started: ${error}\n`);
      stop("none could be started", 1);
    });
  });
}

/**
 * A NATS server for the nodes: the config's when one of its URLs answers; else, when the first
 * is on loopback, a `nats-server` started here on that port (its store in the data folder's
 * `nats/`); else none (the nodes keep trying the config's servers, which may come up later).
 */
async function ensureNats(
  plan: NodePlan,
  adapters: Adapters,
  log: (type: string, text: string) => void,
): Promise<LocalNats | undefined> {
  for (const url of plan.natsUrls) {
    if (await natsAnswers(adapters, url)) return undefined;
  }
  const url = plan.natsUrls[0];
  const { hostname, port } = natsAddress(url);
  if (!isLoopback(hostname)) {
    log("warn", `No NATS server answers at ${plan.natsUrls.join(", ")}: the nodes will retry`);
    return undefined;
  }
  const dir = `${dirname(pidfilePath(plan.config))}/nats`;
  const bind = hostname === "localhost" ? "127.0.0.1" : hostname;
  const nats = await startLocalNats(adapters, { hostname: bind, port, dir });
  log("notice", `No NATS server answered at ${url}: started nats-server (pid ${nats.pid}), ${dir}`);
  return nats;
}
