/**
 * The pidfile of `jabberd start` (`<pidfile>` in the config, default `data/jabberd.pid` beside
 * the XDB folder) and the commands that use it: `jabberd status`, `jabberd stop` (SIGTERM) and
 * `jabberd reload` (SIGHUP), so nobody has to find the process id by hand. The file holds the
 * process id alone, as `kill $(cat data/jabberd.pid)` expects; its modification time is when
 * the server started.
 */
import type { Adapters } from "../adapters/types.ts";
import { type Config, formatProblem } from "../config/mod.ts";
import { dirname } from "../server/server.ts";
import { resolvePath } from "../server/section.ts";
import { adminStatus } from "./admin_client.ts";
import { readConfig } from "./read_config.ts";

/** Where the pidfile goes when the config has no `<pidfile>`, relative to the config's folder. */
export const DEFAULT_PIDFILE = "data/jabberd.pid";

/** What the commands need of the operating system's process table (`main.ts` gives it). */
export interface ProcessControl {
  /** This process's id. */
  readonly pid: number;
  /** True when a process with this id exists. */
  isRunning(pid: number): boolean;
  /** Sends a signal; false when no such process exists. */
  signal(pid: number, signal: "SIGTERM" | "SIGHUP"): boolean;
  /** When the file was last written; undefined when it does not exist. */
  modifiedAt(path: string): Promise<Date | undefined>;
  /** Removes the file (nothing happens when it does not exist). */
  removeFile(path: string): Promise<void>;
}

/** The pidfile path of a loaded config. */
export function pidfilePath(config: Config): string {
  const written = config.root.getChild("pidfile")?.text().trim();
  return resolvePath(dirname(config.file), written || DEFAULT_PIDFILE);
}

/** The process id a pidfile names; undefined when it is missing or holds no number. */
export async function readPidfile(path: string, adapters: Adapters): Promise<number | undefined> {
  if (!(await adapters.files.exists(path))) return undefined;
  const first = (await adapters.files.readTextFile(path)).split("\n")[0].trim();
  return /^\d+$/.test(first) ? Number(first) : undefined;
}

export async function writePidfile(path: string, pid: number, adapters: Adapters): Promise<void> {
  await adapters.files.mkdir(dirname(path));
  await adapters.files.writeTextFile(path, `${pid}\n`);
}

/** What `status`, `stop` and `reload` find. */
type Found =
  | { state: "running"; pid: number; path: string }
  | { state: "stale"; pid: number; path: string }
  | { state: "absent"; path: string };

async function find(path: string, adapters: Adapters, processes: ProcessControl): Promise<Found> {
  const pid = await readPidfile(path, adapters);
  if (pid === undefined) return { state: "absent", path };
  return { state: processes.isRunning(pid) ? "running" : "stale", pid, path };
}

function describeNotRunning(found: Found): string {
  return found.state === "stale"
    ? `jabberd is not running (the pidfile ${found.path} names pid ${found.pid}, which is gone)`
    : `jabberd is not running (no pidfile ${found.path})`;
}

/** How long `jabberd stop` waits for the server to exit. */
const STOP_WAIT_MS = 30_000;

/**
 * `jabberd status|stop|reload`. Exit codes as LSB init scripts have them: status 0 running,
 * 1 a stale pidfile, 3 not running; stop 0 when stopped or not running; reload 1 when not
 * running.
 */
export async function runProcessCommand(
  command: "status" | "stop" | "reload",
  option: string | undefined,
  adapters: Adapters,
  processes: ProcessControl | undefined,
): Promise<number> {
  if (!processes) {
    adapters.stderr(`jabberd ${command} needs the process table, which this runtime lacks\n`);
    return 1;
  }
  const source = await readConfig(option, adapters);
  const errors = source.problems.filter((p) => p.severity === "error");
  if (!source.config || errors.length > 0) {
    for (const problem of errors) adapters.stderr(formatProblem(problem) + "\n");
    adapters.stderr(`${source.description}: it has ${errors.length} error(s)\n`);
    return 1;
  }
  const found = await find(pidfilePath(source.config), adapters, processes);
  if (found.state !== "running") {
    adapters[command === "status" ? "stdout" : "stderr"](describeNotRunning(found) + "\n");
    if (command === "status") return found.state === "stale" ? 1 : 3;
    return command === "stop" ? 0 : 1;
  }
  const { pid, path } = found;
  switch (command) {
    case "status": {
      const since = await processes.modifiedAt(path);
      const when = since ? ` since ${since.toISOString()}` : "";
      adapters.stdout(`jabberd is running as pid ${pid}${when} (pidfile ${path})\n`);
      adapters.stdout(await adminStatus(source.config, adapters));
      return 0;
    }
    case "reload":
      if (!processes.signal(pid, "SIGHUP")) break;
      adapters.stdout(
        `Sent SIGHUP to jabberd (pid ${pid}): it re-reads its config; its log says the result\n`,
      );
      return 0;
    case "stop": {
      if (!processes.signal(pid, "SIGTERM")) break;
      const clock = adapters.clock;
      const deadline = clock.now() + STOP_WAIT_MS;
      while (processes.isRunning(pid)) {
        if (clock.now() >= deadline) {
          adapters.stderr(
            `jabberd (pid ${pid}) is still running ${STOP_WAIT_MS / 1000} s after SIGTERM\n`,
          );
          return 1;
        }
        await new Promise((resolve) => clock.setTimeout(() => resolve(undefined), 100));
      }
      adapters.stdout(`Stopped jabberd (pid ${pid})\n`);
      return 0;
    }
  }
  // The process ended between the check and the signal.
  adapters.stderr(describeNotRunning({ state: "stale", pid, path }) + "\n");
  return command === "stop" ? 0 : 1;
}
