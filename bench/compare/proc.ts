/**
 * CPU time and memory of a process from Linux's /proc (proc(5): `stat` fields 14 utime and 15
 * stime in clock ticks, `status` VmRSS), for the servers and for the load generator itself.
 */

/** Clock ticks per second (`getconf CLK_TCK`); 100 on every Linux this runs on. */
export const TICKS = 100;

/** Whose CPU a meter reads: one process, this one, or several summed (a farm's processes). */
export type Processes = number | "self" | readonly number[];

/** utime + stime of `pid` (or "self", or the sum over several pids) in seconds. */
export function cpuSeconds(pid: Processes): number {
  if (typeof pid === "object") return pid.reduce((sum, one) => sum + cpuSeconds(one), 0);
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // The command name may hold spaces and parentheses: fields start after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}

/** Resident set size of `pid` in bytes (`field` RssAnon: without mapped files). */
export function rssBytes(pid: number | "self", field = "VmRSS"): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const match = status.match(new RegExp(`${field}:\\s+(\\d+) kB`));
  return match ? Number(match[1]) * 1024 : NaN;
}

/** A CPU meter over a span of wall time. */
export class CpuMeter {
  #pid: Processes;
  #cpu: number;
  #wall: number;

  constructor(pid: Processes) {
    this.#pid = pid;
    this.#cpu = cpuSeconds(pid);
    this.#wall = performance.now();
  }

  /** CPU seconds and wall seconds since the meter was made. */
  read(): { cpu: number; wall: number; percent: number } {
    const cpu = cpuSeconds(this.#pid) - this.#cpu;
    const wall = (performance.now() - this.#wall) / 1000;
    return { cpu, wall, percent: (100 * cpu) / wall };
  }
}

/** Waits until `pid` (together) uses less than 5% of a core over 500 ms (at most `limitMs`). */
export async function settle(pid: Processes, limitMs = 10_000): Promise<void> {
  const end = performance.now() + limitMs;
  while (performance.now() < end) {
    const meter = new CpuMeter(pid);
    await new Promise((r) => setTimeout(r, 500));
    if (meter.read().percent < 5) return;
  }
}

/**
 * Starts `command` with its standard output and error appended to `logFile`, so pipes never fill
 * up; `copied` settles once both are copied and the file is closed (a throwaway peer server).
 */
export function spawnLogged(
  command: string,
  args: string[],
  logFile: string,
  env: Record<string, string> = {},
): { child: Deno.ChildProcess; copied: Promise<unknown> } {
  const file = Deno.openSync(logFile, { write: true, create: true, append: true });
  const child = new Deno.Command(command, {
    args,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const copy = async (stream: ReadableStream<Uint8Array>) => {
    try {
      for await (const chunk of stream) file.writeSync(chunk);
    } catch {
      // Closed.
    }
  };
  const copied = Promise.all([copy(child.stdout), copy(child.stderr)]).finally(() => file.close());
  return { child, copied };
}
