/**
 * The process adapter on `Deno.Command`: children with piped standard streams, for `<exec>` and
 * `<fork>` (a child jabberd speaking an XML stream over its stdin/stdout), and how to start this
 * jabberd again, under `deno run` or as a compiled binary.
 */

import { V8_FLAGS_ARGUMENT } from "./v8_flags.ts";
import type { ChildProcess, CommandLine, ProcessAdapter, SpawnOptions } from "../types.ts";

const encoder = new TextEncoder();

/** Signal numbers for the exit code of a killed child (128 + n, as shells report it). */
const SIGNAL_NUMBERS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGKILL: 9,
  SIGSEGV: 11,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
};

/** Reads a stream with a reader loop (not `for await`) and hands chunks to a settable callback. */
class StreamPump {
  #callback: ((chunk: Uint8Array) => void) | undefined;
  #held: Uint8Array[] = [];
  readonly done: Promise<void>;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.done = this.#run(stream.getReader());
  }

  set callback(callback: (chunk: Uint8Array) => void) {
    this.#callback = callback;
    // Output that came before anyone listened is handed over, not lost.
    const held = this.#held;
    this.#held = [];
    for (const chunk of held) callback(chunk);
  }

  async #run(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    try {
      while (true) {
        const { value, done } = await reader.read();
        if (done) return;
        if (this.#callback) this.#callback(value);
        else this.#held.push(value);
      }
    } catch {
      // The pipe broke because the child died: its exit status tells the story.
    } finally {
      reader.releaseLock();
    }
  }
}

class DenoChildProcess implements ChildProcess {
  readonly pid: number;
  readonly exited: Promise<number>;
  #child: Deno.ChildProcess;
  #stdout: StreamPump;
  #stderr: StreamPump;
  #stdin: WritableStreamDefaultWriter<Uint8Array>;

  constructor(child: Deno.ChildProcess) {
    this.#child = child;
    this.pid = child.pid;
    this.#stdout = new StreamPump(child.stdout);
    this.#stderr = new StreamPump(child.stderr);
    this.#stdin = child.stdin.getWriter();
    // Resolves after the output is all delivered, so nothing arrives after `exited`.
    this.exited = Promise.all([child.status, this.#stdout.done, this.#stderr.done]).then(
      ([status]) => {
        this.#stdin.close().catch(() => {});
        return status.signal ? 128 + (SIGNAL_NUMBERS[status.signal] ?? 0) : status.code;
      },
    );
  }

  onStdout(callback: (chunk: Uint8Array) => void): void {
    this.#stdout.callback = callback;
  }

  onStderr(callback: (chunk: Uint8Array) => void): void {
    this.#stderr.callback = callback;
  }

  writeStdin(data: string | Uint8Array): void {
    // The writer queues writes in order; a write to a dead child fails, and `exited` says why.
    this.#stdin.write(typeof data === "string" ? encoder.encode(data) : data).catch(() => {});
  }

  kill(signal: "SIGTERM" | "SIGKILL" | "SIGHUP" | "SIGINT" = "SIGTERM"): void {
    try {
      this.#child.kill(signal);
    } catch {
      // Already gone.
    }
  }
}

/** The entry point `deno run` starts: this project's main.ts (the test runner's is a test). */
const MAIN_PATH = decodeURIComponent(new URL("../../../main.ts", import.meta.url).pathname);

export interface DenoProcessOptions {
  /** The executable `selfCommand()` runs (default `Deno.execPath()`). */
  execPath?: string;
  /**
   * True in a `deno compile` binary, whose executable is jabberd itself and takes jabberd's
   * arguments (default `Deno.build.standalone`).
   */
  standalone?: boolean;
  /** The entry module for `deno run` when not standalone (default this project's main.ts). */
  mainPath?: string;
}

export class DenoProcess implements ProcessAdapter {
  #execPath: string;
  #standalone: boolean;
  #mainPath: string;

  constructor(options: DenoProcessOptions = {}) {
    this.#execPath = options.execPath ?? Deno.execPath();
    this.#standalone = options.standalone ?? Deno.build.standalone;
    this.#mainPath = options.mainPath ?? MAIN_PATH;
  }

  spawn(command: string, options: SpawnOptions = {}): ChildProcess {
    const child = new Deno.Command(command, {
      args: options.args,
      cwd: options.cwd,
      env: options.env,
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    return new DenoChildProcess(child);
  }

  selfCommand(args: string[]): CommandLine {
    return {
      command: this.#execPath,
      args: this.#standalone
        ? [...args]
        : ["run", "-A", V8_FLAGS_ARGUMENT, this.#mainPath, ...args],
    };
  }

  pid(): number {
    return Deno.pid;
  }

  memory(): { rss: number; heapUsed: number } {
    const { rss, heapUsed } = Deno.memoryUsage();
    return { rss, heapUsed };
  }

  hostname(): string | undefined {
    try {
      return Deno.hostname();
    } catch {
      // Without --allow-sys the name cannot be read.
      return undefined;
    }
  }

  cwd(): string {
    return Deno.cwd();
  }
}
