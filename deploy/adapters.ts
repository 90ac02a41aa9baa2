/**
 * The adapters of the Deno Deploy variant: no TCP, UDP, processes, workers or file system (what
 * needs them fails with a sentence), KV on the one `Deno.Kv` of the isolate, and HTTP handed to
 * `deno serve` (`serve` keeps the handler for the exported `fetch` instead of listening).
 */
import type { Adapters, HttpHandler } from "../src/adapters/types.ts";
import { denoAdapters, DenoHttp } from "../src/adapters/deno/mod.ts";
import { DenoKvStore } from "../src/adapters/deno/kv.ts";
import { MemoryFiles } from "../src/adapters/memory/files.ts";

function unavailable(what: string): never {
  throw new Error(`${what} is not available on Deno Deploy`);
}

/** The adapters, and `fetch` for `deno serve`, answering 503 until the http section starts. */
export function deployAdapters(kv: Deno.Kv): { adapters: Adapters; fetch: Deno.ServeHandler } {
  const base = denoAdapters();
  const http = new DenoHttp();
  let handler: HttpHandler | undefined;
  const adapters: Adapters = {
    ...base,
    net: {
      listen: () => Promise.reject(new Error("TCP listeners are not available on Deno Deploy")),
      connect: () => Promise.reject(new Error("TCP connections are not available on Deno Deploy")),
    },
    http: {
      serve(options, serve) {
        handler = serve;
        return Promise.resolve({
          address: { hostname: options.hostname, port: options.port },
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
    // Certificates c2s makes when it has none live in memory: Deploy terminates TLS itself.
    files: new MemoryFiles(),
    kv: { open: () => Promise.resolve(new DenoKvStore(kv)) },
    signals: { on: () => () => {} },
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
