/**
 * The Deno Deploy variant's edges (issue 11): the config check refuses what Deploy cannot run,
 * knowing the runtime through the adapter set's `RuntimeCapabilities`; deploy/main.ts under
 * `deno serve` refuses such a config, says truthfully how it is served, and stops cleanly on
 * SIGTERM with the sessions' last logout stored.
 */
import assert from "node:assert/strict";
import { client } from "@xmpp/client";
import { denoAdapters } from "../src/adapters/deno/mod.ts";
import { type ConfigIo, formatProblem, loadConfig, loadConfigText } from "../src/config/mod.ts";
import { addUser, c2sSection } from "../src/modules/c2s/_testing.ts";
import { readConfig } from "../src/cli/read_config.ts";
import { builtinModules } from "../src/modules/mod.ts";
import { XdbStore } from "../src/modules/xdb/store.ts";
import { testServer } from "../src/server/_testing.ts";
import { NS_LAST } from "../src/util/ns.ts";
import { DEPLOY_RUNTIME } from "../deploy/adapters.ts";
import { DEPLOY_CONFIG } from "../deploy/config.ts";
import { JsClient, xml } from "./interop/xmpp_js.ts";
import { freePort } from "./jabberd_process.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const ENTRY = `${ROOT}deploy/main.ts`;
const FIXTURE = `${ROOT}tests/fixtures/deploy/not_for_deploy.xml`;

const files: ConfigIo = { readTextFile: (path) => Deno.readTextFile(path), env: () => undefined };

/** What the check says of the fixture, for Deploy: line:column and the sentence. */
const REFUSALS = [
  '7:7: <c2s> listens for clients on TCP, which Deno Deploy cannot do; write <tcp enabled="false"/> in <c2s> instead of <listen> so clients come over WebSocket or BOSH through the <http> section',
  "16:7: Deno Deploy serves HTTP itself (deno serve), so <listen> binds nothing; remove it: requests come on the address given to deno serve (on Deploy, the project's URL)",
  "20:5: Federation (s2s) needs TCP on port 5269, which Deno Deploy cannot listen on; remove this <s2s> (the server then serves its own domains only), or run s2s on a self-hosted jabberd",
  '24:5: <exec> starts a program, and Deno Deploy cannot start processes; run the component in the server with <load path="…"> instead, or keep <exec> on a self-hosted jabberd',
  '28:5: <fork> runs its module in a child process, and Deno Deploy cannot start processes; write <load path="…"> instead to run it in the server itself',
  '32:5: <load thread="worker"> runs its module in a Web Worker, which Deno Deploy does not offer; remove thread="worker" to run it in the main thread',
  '36:5: <accept> listens on a TCP port, and Deno Deploy cannot listen on TCP; remove it (run the component in the server with <load path="…">, or keep <accept> on a self-hosted jabberd)',
  '39:5: <connect> dials a TCP port, and Deno Deploy cannot open TCP connections; remove it (run the component in the server with <load path="…">, or keep <connect> on a self-hosted jabberd)',
  "43:5: <upload> keeps uploaded files in a directory, and Deno Deploy keeps no files; remove this section, or serve uploads from a self-hosted jabberd",
  "51:5: <file> writes log lines to a file, and Deno Deploy keeps no files; log with <stderr/> instead (Deno Deploy collects standard error in its own log)",
  "52:5: <syslog> sends log lines over UDP, which Deno Deploy cannot do; log with <stderr/> instead (Deno Deploy collects standard error)",
].map((refusal) => `${FIXTURE}:${refusal}`);

Deno.test("1 for the Deno Deploy runtime, the config check refuses <exec>, <fork>, <load thread=worker>, <file>, <syslog>, s2s, <accept>, <connect>, c2s TCP listeners, http <listen> and <upload>, each at its file:line:column with what to write instead", async () => {
  const { config, problems } = await loadConfig(
    FIXTURE,
    { ...files, runtime: DEPLOY_RUNTIME },
    builtinModules,
  );
  assert.equal(config, undefined);
  assert.deepEqual(problems.map(formatProblem), REFUSALS);
});

Deno.test("1 the same config passes the check for the normal runtime (no runtime declared, as the Deno adapters)", async () => {
  assert.equal(denoAdapters().runtime, undefined);
  const { config, problems } = await loadConfig(FIXTURE, files, builtinModules);
  assert.deepEqual(problems.map(formatProblem), []);
  assert.ok(config);
});

Deno.test("1 the config `jabberd check` and `start` read is checked for the runtime of the adapter set they run on", async () => {
  const onDeploy = await readConfig(FIXTURE, { ...denoAdapters(), runtime: DEPLOY_RUNTIME });
  assert.equal(onDeploy.config, undefined);
  assert.deepEqual(onDeploy.problems.map(formatProblem), REFUSALS);
  const onDeno = await readConfig(FIXTURE, denoAdapters());
  assert.deepEqual(onDeno.problems, []);
});

Deno.test('1 for Deno Deploy, c2s without <listen> is refused for its default TCP ports, <syslog protocol="tcp"> and <farm> for TCP, and the embedded deploy config passes', async () => {
  const text = `<jabberd>
  <service id="c2s"><c2s xmlns="jabberd:config:c2s"><domain>localhost</domain></c2s></service>
  <log id="elogger"><host/><syslog protocol="tcp"/></log>
  <service id="farm"><farm node="a"/></service>
</jabberd>`;
  const deploy = { ...files, runtime: DEPLOY_RUNTIME };
  const { problems } = await loadConfigText(text, "/deploy/jabberd.xml", deploy, builtinModules);
  assert.deepEqual(problems.map(formatProblem), [
    '/deploy/jabberd.xml:2:21: <c2s> listens for clients on TCP (ports 5222 and 5223 unless told otherwise), which Deno Deploy cannot do; write <tcp enabled="false"/> in <c2s> instead so clients come over WebSocket or BOSH through the <http> section',
    "/deploy/jabberd.xml:3:28: <syslog> sends log lines over TCP, which Deno Deploy cannot do; log with <stderr/> instead (Deno Deploy collects standard error)",
    "/deploy/jabberd.xml:4:22: <farm> joins the other nodes through NATS over TCP, which Deno Deploy cannot open; remove it: on Deno Deploy the isolates already share sessions through Deno KV (deploy/isolates.ts)",
  ]);
  const embedded = await loadConfigText(
    DEPLOY_CONFIG,
    "/deploy/jabberd.xml",
    deploy,
    builtinModules,
  );
  assert.deepEqual(embedded.problems.map(formatProblem), []);
});

/** `deno serve` on the entry, its standard error collected as it comes. */
function serve(env: Record<string, string>) {
  // A port chosen here: `deno serve` does not say which port 0 became.
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["serve", "-A", "--host", "127.0.0.1", "--port", String(port), ENTRY],
    cwd: ROOT,
    env: { ...env, NO_COLOR: "1" },
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const decoder = new TextDecoder();
  const reading = (async () => {
    const reader = child.stderr.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      stderr += decoder.decode(value, { stream: true });
    }
  })();
  return {
    url: `http://127.0.0.1:${port}`,
    child,
    stderr: () => stderr,
    /** The exit code, once standard error is read to its end; fails after `ms` without one. */
    async exited(ms = 20_000): Promise<number> {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          this.kill();
          reject(new Error(`deno serve did not end within ${ms} ms:\n${stderr}`));
        }, ms);
      });
      try {
        const { code } = await Promise.race([child.status, timeout]);
        await reading;
        return code;
      } finally {
        clearTimeout(timer);
      }
    },
    /** Ready once it answers XEP-0156 discovery; fails if it ends first. */
    async ready(): Promise<void> {
      for (let attempt = 0; attempt < 200; attempt++) {
        try {
          const response = await fetch(`${this.url}/.well-known/host-meta`);
          await response.body?.cancel();
          if (response.ok) return;
        } catch {
          // not listening yet
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`deno serve ${ENTRY} did not start:\n${stderr}`);
    },
    kill() {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    },
  };
}

Deno.test("1 deploy/main.ts under deno serve refuses to start on that config, with the sentences", async () => {
  const entry = serve({ JABBERD_CONFIG: FIXTURE, JABBERD_KV: ":memory:" });
  try {
    const code = await entry.exited();
    assert.notEqual(code, 0);
    assert.match(entry.stderr(), /The config cannot run on Deno Deploy:/);
    for (const refusal of REFUSALS) assert.ok(entry.stderr().includes(refusal), refusal);
  } finally {
    entry.kill();
  }
});

Deno.test("2 under deno serve the startup log says it is served by deno serve and where the WebSocket endpoint is, naming no listener address", async () => {
  const entry = serve({ JABBERD_KV: ":memory:" });
  try {
    await entry.ready();
    entry.child.kill("SIGTERM");
    assert.equal(await entry.exited(), 0);
    const log = entry.stderr();
    assert.match(
      log,
      /http: served by deno serve \(WebSocket at \/xmpp-websocket, BOSH at \/http-bind\)/,
    );
    assert.doesNotMatch(log, /http: listening on/);
    assert.doesNotMatch(log, /0\.0\.0\.0:443/);
  } finally {
    entry.kill();
  }
});

Deno.test("3 SIGTERM stops deploy/main.ts under deno serve cleanly: it exits 0 and the session's last logout is stored", async () => {
  const dir = await Deno.makeTempDir({ prefix: "jabberd-deploy-stop-" });
  const kvPath = `${dir}/jabberd.kv`;
  const accounts = await testServer(
    `<jabberd>${c2sSection()}<xdb id="xdb"><host/><kv>${kvPath}</kv></xdb></jabberd>`,
    { adapters: denoAdapters(), file: `${dir}/jabberd.xml` },
  );
  await addUser(accounts, "alice");
  await accounts.stop();
  const entry = serve({ JABBERD_KV: kvPath });
  try {
    await entry.ready();
    const xmpp = client({
      service: `${entry.url.replace("http", "ws")}/xmpp-websocket`,
      domain: "localhost",
      resource: "web",
      username: "alice",
      password: "secret",
    });
    xmpp.reconnect.stop();
    xmpp.on("error", () => {});
    const alice = new JsClient(xmpp);
    try {
      await xmpp.start();
      await alice.send(xml("presence", {}, xml("status", {}, "gone fishing")));
      entry.child.kill("SIGTERM");
      assert.equal(await entry.exited(), 0, entry.stderr());
    } finally {
      await alice.stop().catch(() => {});
    }
    assert.match(entry.stderr(), /stopping on SIGTERM/);
    const store = new XdbStore(await denoAdapters().kv.open(kvPath));
    try {
      const last = await store.get("alice@localhost", NS_LAST);
      assert.ok(last, "no last logout stored for alice");
      assert.ok(Number(last.attrs.stamp) > 0);
    } finally {
      await store.close();
    }
  } finally {
    entry.kill();
    await entry.exited().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
});
