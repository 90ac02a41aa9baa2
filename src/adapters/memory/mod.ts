/**
 * In-process adapters for unit tests: the whole Adapters contract without sockets, processes,
 * files or real time, plus handles that let a test drive the clock, signals, DNS and the rest.
 */

import type { Adapters } from "../types.ts";
import { ManualClock } from "./clock.ts";
import { DnsTable } from "./dns.ts";
import { MemoryFiles } from "./files.ts";
import { MemoryKvAdapter } from "./kv.ts";
import { MemoryNet } from "./net.ts";
import { MemoryProcess, type MemoryProgram } from "./process.ts";
import { ManualSignals } from "./signals.ts";

export { ManualClock } from "./clock.ts";
export { DnsTable } from "./dns.ts";
export { MemoryFiles, NotFoundError } from "./files.ts";
export { MemoryKvAdapter, MemoryKvStore } from "./kv.ts";
export { ConnectionRefusedError, MemoryConnection, MemoryNet } from "./net.ts";
export {
  MemoryProcess,
  type MemoryProgram,
  type MemoryProgramContext,
  ProgramNotFoundError,
} from "./process.ts";
export { ManualSignals } from "./signals.ts";

export interface MemoryAdaptersOptions {
  /** Environment variables `env()` answers from. */
  env?: Record<string, string>;
  /** Files present at the start, by path. */
  files?: Record<string, string>;
  /** Programs `process.spawn()` can run, by command name. */
  programs?: Record<string, MemoryProgram>;
  /** What `process.execPath()` answers. */
  execPath?: string;
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
  process: MemoryProcess;
  kv: MemoryKvAdapter;
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
  const process = new MemoryProcess(options.programs, options.execPath);
  const kv = new MemoryKvAdapter();
  const env = new Map(Object.entries(options.env ?? {}));
  const output = { stderr: [] as string[], stdout: [] as string[] };
  return {
    adapters: {
      net,
      process,
      kv,
      dns,
      clock,
      signals,
      files,
      env: (name) => env.get(name),
      stderr: (text) => output.stderr.push(text),
      stdout: (text) => output.stdout.push(text),
    },
    clock,
    files,
    signals,
    dns,
    net,
    process,
    kv,
    env,
    output,
  };
}
