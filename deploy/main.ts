/**
 * The Deno Deploy entry (`deno serve deploy/main.ts`): WebSocket c2s (RFC 7395), the session
 * manager and XDB on Deno KV in one isolate, with delivery to the sessions of other isolates
 * through KV (isolates.ts). Settings come from the environment: see deploy/README.md.
 */
import { loadConfig, loadConfigText } from "../src/config/load.ts";
import { formatProblem } from "../src/config/problem.ts";
import { builtinModules } from "../src/modules/mod.ts";
import { allFeatures, sessionManagerModule, smModule } from "../src/modules/sm/mod.ts";
import { Server } from "../src/server/server.ts";
import { deployAdapters } from "./adapters.ts";
import { DEPLOY_CONFIG } from "./config.ts";
import { isolatesFeature } from "./isolates.ts";
import { retryingKv, retryLocked } from "./kv_retry.ts";

// On Deploy the project's KV; elsewhere (tests, several processes) the file JABBERD_KV names.
// Every write of this isolate goes through the one wrapped handle (kv_retry.ts).
const kvRetry = {
  log: (line: string) => console.error(`${new Date().toISOString()} kv warning ${line}`),
};
const kvPath = Deno.env.get("JABBERD_KV") || undefined;
const kv = retryingKv(await retryLocked("opening", () => Deno.openKv(kvPath), kvRetry), kvRetry);
const { adapters, fetch } = deployAdapters(kv);
const ttl = Number(Deno.env.get("JABBERD_ISOLATE_TTL_MS") || "30000");
const modules = builtinModules.map((module) =>
  module === smModule
    ? sessionManagerModule([
      ...allFeatures(),
      isolatesFeature({ kv, isolate: crypto.randomUUID(), ttlMs: ttl }),
    ])
    : module
);
// The config check knows the runtime (adapters.runtime): what Deploy cannot run is refused with
// a sentence each (src/config/runtime_check.ts). Files deployed with the code can be read.
const io = {
  readTextFile: (path: string) => Deno.readTextFile(path),
  env: adapters.env,
  runtime: adapters.runtime,
};
const file = Deno.env.get("JABBERD_CONFIG");
const { config, problems } = file
  ? await loadConfig(file, io, modules)
  : await loadConfigText(DEPLOY_CONFIG, "/deploy/jabberd.xml", io, modules);
if (!config) {
  throw new Error(
    `The config cannot run on Deno Deploy:\n${problems.map(formatProblem).join("\n")}`,
  );
}
const server = new Server({ adapters });
await server.start(config);

/**
 * `deno serve` alone answers SIGTERM by draining HTTP and waiting for the event loop, which the
 * server's timers keep alive: stop the server instead (sessions end, their last logout and
 * queued XDB writes are stored), then leave. Deploy itself may end an isolate without a signal
 * (deploy/README.md): then session ownership expires in KV and isolates.ts's rules apply.
 */
let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  adapters.stderr(`jabberd on deno serve: stopping on ${signal}\n`);
  let code = 0;
  try {
    await server.stop();
  } catch (error) {
    adapters.stderr(`jabberd on deno serve: the stop failed: ${error}\n`);
    code = 1;
  }
  Deno.exit(code);
};
adapters.signals.on("SIGTERM", () => void stop("SIGTERM"));
adapters.signals.on("SIGINT", () => void stop("SIGINT"));

export default { fetch } satisfies Deno.ServeDefaultExport;
