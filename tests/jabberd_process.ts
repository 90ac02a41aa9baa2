/**
 * Child processes for tests and benches, shared so that each does it the one way: a free loopback
 * port, waiting until a child's port answers, stopping a child by its PID (a signal, then SIGKILL
 * when it lingers), and a real
 * `main.ts start -c FILE` process whose output is collected as it comes. Every process is
 * stopped by its own PID, never by name: other programs of the same name on the machine are not
 * ours to end.
 */

import { freePort } from "../src/adapters/_throwaway.ts";
import { DenoProcess } from "../src/adapters/deno/process.ts";

export { freePort };

/**
 * Sends `signal` to `child` and waits for its end; SIGKILL after `graceMs` if it is still there
 * (a process that ignores SIGTERM must not hang the test or bench).
 */
export async function stopChild(
  child: Deno.ChildProcess,
  signal: Deno.Signal = "SIGTERM",
  graceMs = 20_000,
): Promise<void> {
  try {
    child.kill(signal);
  } catch {
    // Gone already.
  }
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Gone meanwhile.
    }
  }, graceMs);
  await child.status;
  clearTimeout(timer);
}

export interface WaitForPortOptions {
  /** Where it listens: 127.0.0.1 unless said. */
  hostname?: string;
  timeoutMs?: number;
  /** What the process wrote so far (its log), for the error. */
  log?: () => string;
}

/**
 * Waits until `hostname:port` accepts a connection while `child` lives; fails, with the end of
 * its log, when it exits first or nothing listens after the timeout (30 s unless said).
 */
export async function waitForPort(
  child: Deno.ChildProcess,
  port: number,
  { hostname = "127.0.0.1", timeoutMs = 30_000, log = () => "" }: WaitForPortOptions = {},
): Promise<void> {
  let exited = false;
  child.status.then(() => exited = true);
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (exited) throw new Error(`The process exited while starting:\n${log().slice(-3000)}`);
    try {
      (await Deno.connect({ hostname, port })).close();
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error(
    `Nothing listens on ${hostname}:${port} after ${timeoutMs} ms:\n${log().slice(-3000)}`,
  );
}

export interface JabberdProcessOptions {
  /** The folder it runs in (relative paths of the config resolve there). */
  cwd?: string;
  /** Added to `NO_COLOR=1`. */
  env?: Record<string, string>;
  /** After `start -c FILE` (e.g. `--nodes 2`). */
  args?: string[];
  /** How long `start` and `waitFor` wait (the first run may compile main.ts). */
  timeoutMs?: number;
}

/** One `main.ts start -c FILE` process; `output` is its stdout and stderr as they come. */
export class JabberdProcess {
  output = "";
  readonly #options: JabberdProcessOptions;
  #child: Deno.ChildProcess | undefined;
  #exited = false;
  #reading: Promise<void> = Promise.resolve();

  constructor(readonly name: string, readonly config: string, options: JabberdProcessOptions = {}) {
    this.#options = options;
  }

  /** The PID of the process now running, undefined before `start` and after `stop`. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    return this.#child !== undefined && !this.#exited;
  }

  /** Starts the process and waits until its output from now on matches `ready`. */
  async start(ready: RegExp): Promise<void> {
    const from = this.output.length;
    // As the server starts itself (supervisor, `<fork>`): the running Deno, its V8 flags.
    const { command, args } = new DenoProcess().selfCommand([
      "start",
      "-c",
      this.config,
      ...this.#options.args ?? [],
    ]);
    const child = new Deno.Command(command, {
      args,
      cwd: this.#options.cwd,
      env: { NO_COLOR: "1", ...this.#options.env },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    this.#exited = false;
    child.status.then(() => {
      if (this.#child === child) this.#exited = true;
    });
    const read = async (stream: ReadableStream<Uint8Array>) => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) this.output += decoder.decode(chunk, { stream: true });
    };
    this.#reading = Promise.all([read(child.stdout), read(child.stderr)]).then(() => {});
    await this.waitFor(ready, from);
  }

  /**
   * Waits until the output after `from` matches `pattern` and returns the match; fails when the
   * process exits first or after the timeout (60 s unless the options say otherwise).
   */
  async waitFor(pattern: RegExp, from = 0): Promise<RegExpMatchArray> {
    const ms = this.#options.timeoutMs ?? 60_000;
    const deadline = Date.now() + ms;
    for (;;) {
      const match = this.output.slice(from).match(pattern);
      if (match) return match;
      if (!this.running) throw new Error(`${this.name} is not running:\n${this.output}`);
      if (Date.now() > deadline) {
        throw new Error(
          `${this.name}: timed out after ${ms} ms waiting for ${pattern} in:\n${this.output}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** Freezes the process (SIGSTOP): its sockets stay open and what is written to them is unread. */
  freeze(): void {
    this.#child?.kill("SIGSTOP");
  }

  /** Sends `signal` to the process (by its PID) and waits for its end (SIGKILL after 20 s). */
  async stop(signal: Deno.Signal = "SIGTERM"): Promise<void> {
    const child = this.#child;
    if (!child) return;
    await stopChild(child, signal);
    await this.#reading;
    this.#child = undefined;
  }
}
