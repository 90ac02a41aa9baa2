/** The Deno runtime's adapters, bundled for `main.ts`: the only place the core meets Deno. */

import type { Adapters } from "../types.ts";
import { WebWorkers } from "../web_workers.ts";
import { DenoClock } from "./clock.ts";
import { DenoDatagrams } from "./datagrams.ts";
import { DenoDns } from "./dns.ts";
import { DenoFiles } from "./files.ts";
import { DenoHttp } from "./http.ts";
import { DenoKvAdapter } from "./kv.ts";
import { DenoNet } from "./net.ts";
import { DenoProcess } from "./process.ts";
import { DenoSignals } from "./signals.ts";
import { DenoTerminal } from "./terminal.ts";

export {
  DenoClock,
  DenoDatagrams,
  DenoDns,
  DenoFiles,
  DenoHttp,
  DenoKvAdapter,
  DenoNet,
  DenoProcess,
  DenoSignals,
  WebWorkers,
};

const encoder = new TextEncoder();

/** Writes all of `bytes`: writeSync may write only part of them. */
function writeAll(stream: { writeSync(bytes: Uint8Array): number }, text: string): void {
  let bytes = encoder.encode(text);
  while (bytes.length > 0) bytes = bytes.subarray(stream.writeSync(bytes));
}

export function denoAdapters(): Adapters {
  const terminal = new DenoTerminal((text) => writeAll(Deno.stderr, text));
  return {
    net: new DenoNet(),
    http: new DenoHttp(),
    datagrams: new DenoDatagrams(),
    process: new DenoProcess(),
    workers: new WebWorkers(),
    kv: new DenoKvAdapter(),
    // The npm NATS client is loaded only when a <farm> connects (docs/farm.md).
    nats: {
      connect: async (options) =>
        new (await import("../nats/client.ts")).NatsClientAdapter().connect(options),
    },
    dns: new DenoDns(),
    clock: new DenoClock(),
    signals: new DenoSignals(),
    files: new DenoFiles(),
    env: (name) => Deno.env.get(name),
    stderr: (text) => writeAll(Deno.stderr, text),
    stdout: (text) => writeAll(Deno.stdout, text),
    readHiddenLine: (prompt) => terminal.readHiddenLine(prompt),
  };
}
