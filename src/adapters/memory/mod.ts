/**
 * In-process adapters for unit tests: the whole Adapters contract without sockets, processes,
 * files or real time (workers are in-process anyway: real ones unless a test registers a fake),
 * plus handles that let a test drive the clock, signals, DNS and the rest.
 */

import type { Adapters } from "../types.ts";
import { ManualClock } from "./clock.ts";
import { MemoryDatagrams } from "./datagrams.ts";
import { DnsTable } from "./dns.ts";
import { MemoryFiles } from "./files.ts";
import { MemoryHttp } from "./http.ts";
import { MemoryKvAdapter } from "./kv.ts";
import { MemoryNet } from "./net.ts";
import { MemoryProcess, type MemoryProgram } from "./process.ts";
import { ManualSignals } from "./signals.ts";
import { MemoryTerminal } from "./terminal.ts";
import { type MemoryWorkerProgram, MemoryWorkers } from "./workers.ts";

export { ManualClock } from "./clock.ts";
export { MemoryDatagrams } from "./datagrams.ts";
export { DnsTable } from "./dns.ts";
export { MemoryFiles, NotFoundError } from "./files.ts";
export { MemoryHttp, MemoryWebSocket } from "./http.ts";
export { MemoryKvAdapter, MemoryKvStore } from "./kv.ts";
export { ConnectionRefusedError, MemoryConnection, MemoryNet } from "./net.ts";
export {
  MemoryProcess,
  type MemoryProgram,
  type MemoryProgramContext,
  ProgramNotFoundError,
} from "./process.ts";
export { ManualSignals } from "./signals.ts";
export { MemoryTerminal } from "./terminal.ts";
export { type MemoryWorkerProgram, MemoryWorkers, type MemoryWorkerScope } from "./workers.ts";

export interface MemoryAdaptersOptions {
  /** Environment variables `env()` answers from. */
  env?: Record<string, string>;
  /** Files present at the start, by path. */
  files?: Record<string, string>;
  /** Programs `process.spawn()` can run, by command name. */
  programs?: Record<string, MemoryProgram>;
  /** The executable `process.selfCommand()` names. */
  execPath?: string;
  /** Worker programs by module URL; other URLs start real Web Workers. */
  workers?: Record<string, MemoryWorkerProgram>;
  /** The clock's start, in ms since the epoch. */
  now?: number;
}

/** The adapters and the handles a test uses to drive them. */
export interface MemoryAdapters {
  adapters: Adapters;
  clock: ManualClock;
  files: MemoryFiles;
  signals: ManualSignals;
  dns: DnsTable;
  net: MemoryNet;
  http: MemoryHttp;
  datagrams: MemoryDatagrams;
  process: MemoryProcess;
  workers: MemoryWorkers;
  kv: MemoryKvAdapter;
  /** What `readHiddenLine` answers: lines a test "types", and the prompts it got. */
  terminal: MemoryTerminal;
  /** Environment variables, changeable while the test runs. */
  env: Map<string, string>;
  /** Everything written to stderr and stdout, one item per write. */
  output: { stderr: string[]; stdout: string[] };
}

export function memoryAdapters(options: MemoryAdaptersOptions = {}): MemoryAdapters {
  const clock = new ManualClock(options.now);
  const files = new MemoryFiles(options.files);
  const signals = new ManualSignals();
  const dns = new DnsTable();
  const net = new MemoryNet();
  const http = new MemoryHttp();
  const datagrams = new MemoryDatagrams(dns);
  const process = new MemoryProcess(options.programs, options.execPath);
  const workers = new MemoryWorkers(options.workers);
  const kv = new MemoryKvAdapter();
  const env = new Map(Object.entries(options.env ?? {}));
  const output = { stderr: [] as string[], stdout: [] as string[] };
  const terminal = new MemoryTerminal((text) => output.stderr.push(text));
  return {
    adapters: {
      net,
      http,
      datagrams,
      process,
      workers,
      kv,
      nats: {
        connect: () =>
          Promise.reject(
            new Error("NATS is not available on the memory adapters: use the Deno ones"),
          ),
      },
      dns,
      clock,
      signals,
      files,
      env: (name) => env.get(name),
      stderr: (text) => output.stderr.push(text),
      stdout: (text) => output.stdout.push(text),
      readHiddenLine: (prompt) => terminal.readHiddenLine(prompt),
    },
    clock,
    files,
    signals,
    dns,
    net,
    http,
    datagrams,
    process,
    workers,
    kv,
    terminal,
    env,
    output,
  };
}
