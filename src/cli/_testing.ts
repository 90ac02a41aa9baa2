/**
 * For the CLI's tests: `jabberd ARGS` run in-process through `runCli` on the Deno adapters (real
 * files), with the memory adapters for the dry runs (`tree`, `check`), and what it printed kept.
 */
import { denoAdapters } from "../adapters/deno/mod.ts";
import { memoryAdapters } from "../adapters/memory/mod.ts";
import { runCli } from "./mod.ts";

export interface CliRun {
  code: number;
  /** All it wrote to standard output. */
  out: string;
  /** All it wrote to standard error. */
  err: string;
}

/** Runs `args`; `stdin` is the line a command reads from standard input (a password). */
export async function runCaptured(args: string[], stdin?: string): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const adapters = {
    ...denoAdapters(),
    stdout: (text: string) => void out.push(text),
    stderr: (text: string) => void err.push(text),
  };
  const code = await runCli(args, {
    adapters,
    dryAdapters: () => memoryAdapters().adapters,
    readStdinLine: stdin === undefined ? undefined : () => Promise.resolve(stdin),
  });
  return { code, out: out.join(""), err: err.join("") };
}
