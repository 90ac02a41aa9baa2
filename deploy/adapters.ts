/**
 * The adapters of the Deno Deploy variant: no TCP, UDP, processes, workers or file system (what
 * needs them fails with a sentence), KV on the one `Deno.Kv` of the isolate, and HTTP handed to
 * `deno serve` (`serve` keeps the handler for the exported `fetch` instead of listening).
 */
import type { Adapters, HttpHandler } from "../src/adapters/types.ts";
import { denoAdapters, DenoHttp } from "../src/adapters/deno/mod.ts";
import { DenoKvStore } from "../src/adapters/deno/kv.ts";
import { MemoryFiles } from "../src/adapters/memory/files.ts";
import { DEPLOY_RUNTIME } from "../src/config/runtimes.ts";

function unavailable(what: string): never {
  throw new Error(`${what} is not available on Deno Deploy`);
}

/**
 * What this adapter set offers, for the config check (src/config/runtime_check.ts): it refuses
 * what the throwing adapters below would fail on at run time, with a sentence, before starting.
 * The value lives in src/config/runtimes.ts, so `jabberd check --runtime deploy` uses the same.
 */
export { DEPLOY_RUNTIME };

/**
 * Signals where the runtime delivers them (`deno serve` on a machine: SIGTERM, SIGINT); where
 * it does not, listening is a no-op and the isolate just ends (deploy/README.md).
 */
function signalListener(signal: Deno.Signal, callback: () => void): () => void {
  try {
    Deno.addSignalListener(signal, callback);
  } catch {
    return () => {};
  }
  return () => Deno.removeSignalListener(signal, callback);
}

/** The adapters, and `fetch` for `deno serve`, answering 503 until the http section starts. */
export function deployAdapters(kv: Deno.Kv): { adapters: Adapters; fetch: Deno.ServeHandler } {
  const base = denoAdapters();
  const http = new DenoHttp();
  let handler: HttpHandler | undefined;
  const adapters: Adapters = {
    ...base,
    runtime: DEPLOY_RUNTIME,
    net: {
      listen: () => Promise.reject(new Error("TCP listeners are not available on Deno Deploy")),
      connect: () => Promise.reject(new Error("TCP connections are not available on Deno Deploy")),
    },
    http: {
      serve(options, serve) {
        handler = serve;
        return Promise.resolve({
          address: { hostname: options.hostname, port: options.port },
          servedBy: "deno serve",
          close: () => Promise.resolve(void (handler = undefined)),
        });
      },
      fetch: (input, init) => http.fetch(input, init),
      upgradeWebSocket: (request, options) => http.upgradeWebSocket(request, options),
    },
    datagrams: { bind: () => Promise.reject(new Error("UDP is not available on Deno Deploy")) },
    process: {
      spawn: () => unavailable("Starting processes"),
      selfCommand: () => unavailable("Starting processes"),
      pid: () => 0,
      memory: () => {
        const { rss, heapUsed } = Deno.memoryUsage();
        return { rss, heapUsed };
      },
      hostname: () => undefined,
    },
    workers: { start: () => unavailable("Web Workers") },
    // The farm's transport: isolates on Deploy reach each other through Deno KV (isolates.ts).
    nats: { connect: () => Promise.reject(new Error("NATS is not available on Deno Deploy")) },
    // Certificates c2s makes when it has none live in memory: Deploy terminates TLS itself.
    files: new MemoryFiles(),
    kv: { open: () => Promise.resolve(new DenoKvStore(kv)) },
    signals: { on: signalListener },
  };
  const fetch: Deno.ServeHandler = (request, info) => {
    if (!handler) return new Response("Starting", { status: 503 });
    const remote = info.remoteAddr as Deno.NetAddr;
    return handler(request, {
      remote: { hostname: remote.hostname, port: remote.port },
      secure: false,
    });
  };
  return { adapters, fetch };
}
