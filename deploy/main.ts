/**
 * The Deno Deploy entry (`deno serve deploy/main.ts`): WebSocket c2s (RFC 7395), the session
 * manager and XDB on Deno KV in one isolate, with delivery to the sessions of other isolates
 * through KV (isolates.ts). Settings come from the environment: see deploy/README.md.
 */
import { loadConfigText } from "../src/config/load.ts";
import { formatProblem } from "../src/config/problem.ts";
import { builtinModules } from "../src/modules/mod.ts";
import { allFeatures, sessionManagerModule, smModule } from "../src/modules/sm/mod.ts";
import { Server } from "../src/server/server.ts";
import { deployAdapters } from "./adapters.ts";
import { isolatesFeature } from "./isolates.ts";

/** The embedded config: no TCP listener, WebSocket only (Deploy terminates TLS in front). */
export const DEPLOY_CONFIG = `<jabberd>
  <service id="c2s">
    <c2s xmlns="jabberd:config:c2s">
      <domain>\${JABBERD_HOST:-localhost}</domain>
      <tcp enabled="false"/>
    </c2s>
  </service>
  <service id="sessions">
    <host>\${JABBERD_HOST:-localhost}</host>
    <sm xmlns="jabberd:config:sm"/>
  </service>
  <service id="http">
    <http xmlns="jabberd:config:http">
      <listen port="443" ip="0.0.0.0"/>
      <websocket consider-secure="true"/>
    </http>
  </service>
  <xdb id="xdb"><host/><kv>deno-deploy</kv></xdb>
</jabberd>`;

// On Deploy the project's KV; elsewhere (tests, several processes) the file JABBERD_KV names.
const kv = await Deno.openKv(Deno.env.get("JABBERD_KV") || undefined);
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
const { config, problems } = await loadConfigText(DEPLOY_CONFIG, "/deploy/jabberd.xml", {
  readTextFile: (path) => adapters.files.readTextFile(path),
  env: adapters.env,
}, modules);
if (!config) {
  throw new Error(`The Deploy config is invalid:\n${problems.map(formatProblem).join("\n")}`);
}
const server = new Server({ adapters });
await server.start(config);

export default { fetch } satisfies Deno.ServeDefaultExport;
