/** The Deno runtime's adapters, bundled for `main.ts`: the only place the core meets Deno. */

import type { Adapters } from "../types.ts";
import { DenoClock } from "./clock.ts";
import { DenoDns } from "./dns.ts";
import { DenoFiles } from "./files.ts";
import { DenoKvAdapter } from "./kv.ts";
import { DenoNet } from "./net.ts";
import { DenoProcess } from "./process.ts";
import { DenoSignals } from "./signals.ts";

export { DenoClock, DenoDns, DenoFiles, DenoKvAdapter, DenoNet, DenoProcess, DenoSignals };

const encoder = new TextEncoder();

/** Writes all of `bytes`: writeSync may write only part of them. */
function writeAll(stream: { writeSync(bytes: Uint8Array): number }, text: string): void {
  let bytes = encoder.encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(stream.writeSync(bytes));
}

export function denoAdapters(): Adapters {
  return {
    net: new DenoNet(),
    process: new DenoProcess(),
    kv: new DenoKvAdapter(),
    dns: new DenoDns(),
    clock: new DenoClock(),
    signals: new DenoSignals(),
    files: new DenoFiles(),
    env: (name) => Deno.env.get(name),
    stderr: (text) => writeAll(Deno.stderr, text),
    stdout: (text) => writeAll(Deno.stdout, text),
  };
}
