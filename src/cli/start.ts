/**
 * `jabberd start`: validates the config, starts every section, writes the pidfile and runs until
 * SIGTERM/SIGINT (a clean stop: client streams closed, sessions ended, queued XDB writes
 * flushed). SIGHUP re-reads the config, validating first: a bad file changes nothing and the log
 * says why. A listener that cannot bind stops the start with exit code 1 unless `--keep-going`.
 */
import type { Adapters } from "../adapters/types.ts";
import { formatProblem } from "../config/mod.ts";
import { ListenError, Server } from "../server/server.ts";
import { Element } from "../xml/element.ts";
import { NAME, VERSION } from "../version.ts";
import { pidfilePath, type ProcessControl, readPidfile, writePidfile } from "./pidfile.ts";
import { readConfig } from "./read_config.ts";
import { type NodesOptions, runNodes } from "./nodes.ts";
import { planNodes } from "./node_plan.ts";
import { NODE_READY_LINE, supervisedAdapters } from "./supervised.ts";

export interface StartHooks {
  /** Called once the server runs (tests use it to reach the server). */
  onStarted?(server: Server): void;
  /** Called once the supervisor of `--nodes` started its nodes. */
  onNodesStarted?: NodesOptions["onStarted"];
}

export interface StartOptions {
  /** `--keep-going`: start even when a listener cannot bind. */
  keepGoing?: boolean;
  /** The process table, for the pidfile (absent: no pidfile is written). */
  processes?: ProcessControl;
  hooks?: StartHooks;
  /** `--nodes N|auto`: run N nodes under a supervisor (src/cli/nodes.ts). */
  nodes?: string;
  /**
   * `--supervised` (hidden): this process is a node of a supervisor: its listeners share their
   * ports, the supervisor keeps the pidfile, and it stops when the supervisor's pipe closes.
   */
  supervised?: boolean;
  /** `--share-ports` (hidden): a supervised node's listeners share their ports (`reusePort`). */
  sharePorts?: boolean;
  /** Standard input in chunks: a supervised node stops when it ends (its supervisor died). */
  readStdin?: (onData: (chunk: Uint8Array) => void, onEnd: () => void) => void;
  /** What `--nodes auto` means (default `navigator.hardwareConcurrency`). */
  cores?: number;
  /** The supervisor's timings (tests). */
  nodeTimings?: NodesOptions["timings"];
}

export async function runStart(
  option: string | undefined,
  given: Adapters,
  options: StartOptions = {},
): Promise<number> {
  const { keepGoing = false, hooks = {}, supervised = false } = options;
  if (!supervised) {
    const cores = options.cores ?? globalThis.navigator?.hardwareConcurrency ?? 1;
    const { plan, problem } = await planNodes(option, options.nodes, given, cores);
    if (problem) {
      given.stderr(`${problem}; not starting\n`);
      return 1;
    }
    if (plan) {
      return await runNodes(plan, given, {
        option,
        keepGoing,
        processes: options.processes,
        onStarted: hooks.onNodesStarted,
        timings: options.nodeTimings,
      });
    }
  }
  // A node of a supervisor shares its ports with the others and leaves it the pidfile.
  const adapters = supervised && options.sharePorts ? supervisedAdapters(given) : given;
  const processes = supervised ? undefined : options.processes;
  const source = await readConfig(option, adapters);
  const errors = source.problems.filter((p) => p.severity === "error");
  for (const problem of source.problems) adapters.stderr(formatProblem(problem) + "\n");
  if (!source.config || errors.length > 0) {
    adapters.stderr(`${source.description}: it has ${errors.length} error(s); not starting\n`);
    return 1;
  }
  const pidfile = pidfilePath(source.config);
  const earlier = processes ? await readPidfile(pidfile, adapters) : undefined;
  if (earlier !== undefined && earlier !== processes!.pid && processes!.isRunning(earlier)) {
    adapters.stderr(
      `jabberd is already running as pid ${earlier} (pidfile ${pidfile}); stop it with ` +
        "jabberd stop, or give this one another <pidfile>\n",
    );
    return 1;
  }
  const server = new Server({ adapters, keepGoing });
  const log = (type: string, text: string) =>
    server.router.deliver(new Element("log", { type, from: "jabberd" }, [text]));
  try {
    await server.start(source.config);
  } catch (error) {
    if (!(error instanceof ListenError)) throw error;
    adapters.stderr(`${error.message}; not starting (--keep-going starts without it)\n`);
    return 1;
  }
  log("notice", source.description);
  if (processes) {
    if (earlier !== undefined && earlier !== processes.pid) {
      log("notice", `Replaced the stale pidfile ${pidfile} (pid ${earlier} is not running)`);
    }
    await writePidfile(pidfile, processes.pid, adapters);
  }
  log("notice", `${NAME} ${VERSION} started`);
  hooks.onStarted?.(server);

  return await new Promise<number>((resolve) => {
    let busy: Promise<unknown> = Promise.resolve();
    const serially = (task: () => Promise<unknown>) => busy = busy.then(task, task);
    const stopListening: (() => void)[] = [];
    let stopping = false;
    const stop = (signal: string) =>
      serially(async () => {
        // A second reason to stop (a signal, then the supervisor's pipe closing) changes nothing.
        if (stopping) return;
        stopping = true;
        for (const off of stopListening.splice(0)) off();
        log("notice", `Stopping on ${signal}`);
        await server.stop();
        if (processes && await readPidfile(pidfile, adapters) === processes.pid) {
          await processes.removeFile(pidfile);
        }
        // Every section is gone, the log sections too: this line goes to standard error.
        log("notice", `${NAME} ${VERSION} stopped`);
        resolve(0);
      });
    const reload = () =>
      serially(async () => {
        const next = await readConfig(option, adapters);
        const problems = next.problems.filter((p) => p.severity === "error");
        if (!next.config || problems.length > 0) {
          log("error", `SIGHUP: the config has ${problems.length} error(s); nothing changed`);
          for (const problem of problems) log("error", formatProblem(problem));
          return;
        }
        const summary = await server.reload(next.config);
        log(
          "notice",
          `SIGHUP: config reloaded; started [${summary.started}], stopped [${summary.stopped}], ` +
            `restarted [${summary.restarted}], unchanged [${summary.unchanged}]`,
        );
      });
    server.reloader = reload; // the admin API's reload (src/modules/http/admin.ts)
    stopListening.push(
      adapters.signals.on("SIGTERM", () => stop("SIGTERM")),
      // Ctrl-C reaches the whole process group; the supervisor passes it on as SIGTERM.
      adapters.signals.on("SIGINT", supervised ? () => {} : () => stop("SIGINT")),
      adapters.signals.on("SIGHUP", reload),
    );
    // A supervisor that died (even by SIGKILL) closes the pipe: its nodes must not live on.
    if (supervised) {
      options.readStdin?.(() => {}, () => stop("the end of the supervisor's pipe"));
      adapters.stdout(NODE_READY_LINE + "\n");
    }
  });
}
