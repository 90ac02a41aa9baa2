/**
 * In-process "child processes" for tests: `spawn(command)` runs the program registered under
 * that name with piped stdin/stdout/stderr, an exit code and kill(), all asynchronous and in
 * order like a real pipe, so `<exec>`/`<fork>` logic can be tested without starting processes.
 */

import type { ChildProcess, CommandLine, ProcessAdapter, SpawnOptions } from "../types.ts";

const encoder = new TextEncoder();
const SIGNAL_NUMBERS = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as const;

/** The signals a parent may send (`ChildProcess.kill`). */
export type MemorySignal = keyof typeof SIGNAL_NUMBERS;
/** The test process's own id; its children count from 1000. */
const MEMORY_PID = 999;

/** What a program sees of its process. */
export interface MemoryProgramContext {
  args: string[];
  cwd: string | undefined;
  env: Record<string, string>;
  /** Sets the callback for data the parent writes to stdin. */
  onStdin(callback: (chunk: Uint8Array) => void): void;
  stdout(data: string | Uint8Array): void;
  stderr(data: string | Uint8Array): void;
  /** Aborted, with the signal name as reason, when the parent kills the process. */
  signal: AbortSignal;
  /**
   * Handles SIGTERM, SIGHUP and SIGINT instead of dying at once (a program that stops cleanly).
   * SIGKILL cannot be handled.
   */
  onSignal(callback: (signal: Exclude<MemorySignal, "SIGKILL">) => void): void;
}

/** A program: its return value (or its promise's) is the exit code, 0 when none; a throw is 1. */
export type MemoryProgram = (
  context: MemoryProgramContext,
) => number | void | Promise<number | void>;

/** An error named like `Deno.errors.NotFound`, for a command nobody registered. */
export class ProgramNotFoundError extends Error {
  override name = "NotFound";
}

/** A byte stream one side writes and the other reads, delivered in order by microtasks. */
class Pipe {
  #callback: ((chunk: Uint8Array) => void) | undefined;
  #held: Uint8Array[] = [];
  #open = true;

  set callback(callback: (chunk: Uint8Array) => void) {
    this.#callback = callback;
    const held = this.#held;
    this.#held = [];
    for (const chunk of held) callback(chunk);
  }

  write(data: string | Uint8Array): void {
    if (!this.#open) return;
    const chunk = typeof data === "string" ? encoder.encode(data) : data.slice();
    queueMicrotask(() => {
      if (this.#callback) this.#callback(chunk);
      else this.#held.push(chunk);
    });
  }

  close(): void {
    this.#open = false;
  }
}

class MemoryChildProcess implements ChildProcess {
  readonly pid: number;
  readonly exited: Promise<number>;
  #stdin = new Pipe();
  #stdout = new Pipe();
  #stderr = new Pipe();
  #abort = new AbortController();
  #onSignal: ((signal: Exclude<MemorySignal, "SIGKILL">) => void) | undefined;
  #exit: (code: number) => void;
  #done = false;

  constructor(pid: number, program: MemoryProgram, args: string[], options: SpawnOptions) {
    this.pid = pid;
    const exited = Promise.withResolvers<number>();
    this.exited = exited.promise;
    this.#exit = (code) => {
      if (this.#done) return;
      this.#done = true;
      this.#stdin.close();
      this.#stdout.close();
      this.#stderr.close();
      // Queued after the output already written, so `exited` comes after the last chunk.
      queueMicrotask(() => exited.resolve(code));
    };
    const context: MemoryProgramContext = {
      args,
      cwd: options.cwd,
      env: { ...options.env },
      onStdin: (callback) => this.#stdin.callback = callback,
      stdout: (data) => this.#stdout.write(data),
      stderr: (data) => this.#stderr.write(data),
      signal: this.#abort.signal,
      onSignal: (callback) => this.#onSignal = callback,
    };
    queueMicrotask(async () => {
      // Killed before it started: it never runs.
      if (this.#done) return;
      try {
        this.#exit((await program(context)) ?? 0);
      } catch (error) {
        this.#stderr.write(`${error instanceof Error ? error.stack : error}\n`);
        this.#exit(1);
      }
    });
  }

  onStdout(callback: (chunk: Uint8Array) => void): void {
    this.#stdout.callback = callback;
  }

  onStderr(callback: (chunk: Uint8Array) => void): void {
    this.#stderr.callback = callback;
  }

  writeStdin(data: string | Uint8Array): void {
    this.#stdin.write(data);
  }

  kill(signal: MemorySignal = "SIGTERM"): void {
    if (this.#done) return;
    if (signal !== "SIGKILL" && this.#onSignal) {
      const handler = this.#onSignal;
      queueMicrotask(() => handler(signal));
      return;
    }
    // Like a process without a handler for the signal: it dies at once.
    this.#abort.abort(signal);
    this.#exit(128 + SIGNAL_NUMBERS[signal]);
  }
}

/** What `MemoryProcess.memory()` reports, in bytes. */
export const MEMORY_RSS = 50_000_000;
export const MEMORY_HEAP_USED = 20_000_000;

export class MemoryProcess implements ProcessAdapter {
  readonly programs = new Map<string, MemoryProgram>();
  #nextPid = 1000;
  #execPath: string;

  constructor(programs: Record<string, MemoryProgram> = {}, execPath = "/memory/jabberd") {
    for (const [name, program] of Object.entries(programs)) this.programs.set(name, program);
    this.#execPath = execPath;
  }

  /** Registers the program run by `spawn(name)`. */
  register(name: string, program: MemoryProgram): this {
    this.programs.set(name, program);
    return this;
  }

  spawn(command: string, options: SpawnOptions = {}): ChildProcess {
    const program = this.programs.get(command);
    // Deno.Command.spawn() throws at once for a missing program; so does this.
    if (!program) throw new ProgramNotFoundError(`Failed to spawn '${command}': not registered`);
    return new MemoryChildProcess(this.#nextPid++, program, options.args ?? [], options);
  }

  /** Like a compiled binary: the executable with the arguments alone. */
  selfCommand(args: string[]): CommandLine {
    return { command: this.#execPath, args: [...args] };
  }

  pid(): number {
    return MEMORY_PID;
  }

  /** Fixed numbers, so what reads them (`/metrics`) can be tested exactly. */
  memory(): { rss: number; heapUsed: number } {
    return { rss: MEMORY_RSS, heapUsed: MEMORY_HEAP_USED };
  }

  hostname(): string {
    return "memory-host";
  }
}
