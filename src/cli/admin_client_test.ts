import assert from "node:assert/strict";
import { loadConfigText } from "../config/mod.ts";
import { builtinModules } from "../modules/mod.ts";
import { testServer } from "../server/_testing.ts";
import { addUser } from "../modules/c2s/_testing.ts";
import { ADMIN_TOKEN, httpServerConfig, wsLogin } from "../modules/http/_testing.ts";
import { adminEndpoint, adminStatus, describeSessions, runSessions } from "./admin_client.ts";

/** The test config with the http listener on a fixed port, as an operator's config has it. */
const CONFIG = httpServerConfig().replace(
  `<listen port="0" ip="127.0.0.1"/>`,
  `<listen port="5280" ip="127.0.0.1"/>`,
);

async function loaded(text: string) {
  const { config } = await loadConfigText(text, "/etc/jabberd/jabberd.xml", {
    // The certificate files the config names are checked (src/config/file_check.ts).
    readTextFile: (path) => Deno.readTextFile(path),
    env: () => undefined,
  }, builtinModules);
  assert.ok(config);
  return config;
}

Deno.test("adminEndpoint() finds the first plain listener and the token, or nothing", async () => {
  assert.deepEqual(adminEndpoint(await loaded(CONFIG)), {
    base: "http://127.0.0.1:5280",
    token: ADMIN_TOKEN,
  });
  const wildcard = CONFIG.replace(`ip="127.0.0.1"/>`, `ip="::"/>`);
  assert.equal(adminEndpoint(await loaded(wildcard))?.base, "http://[::1]:5280");
  assert.equal(adminEndpoint(await loaded(httpServerConfig("", { admin: "" }))), undefined);
});

Deno.test("runSessions() lists the sessions online through the admin API", async () => {
  await using world = await testServer(CONFIG);
  await addUser(world, "alice");
  await wsLogin(world, "alice", "web");
  const config = await loaded(CONFIG);
  const out = world.memory.output.stdout;
  assert.equal(await runSessions(config, world.adapters), 0);
  const table = out.join("");
  assert.match(table, /^JID\s+TRANSPORT\s+FROM\s+SINCE\n/);
  assert.match(table, /alice@localhost\/web\s+websocket\s+127\.0\.0\.1\s+\d{4}-/);
  assert.match(await adminStatus(config, world.adapters), /^1 session\(s\) online, 1 client/);
});

Deno.test("runSessions() says what is missing without an admin token, or when nothing answers", async () => {
  await using world = await testServer(httpServerConfig("", { admin: "" }));
  assert.equal(
    await runSessions(await loaded(httpServerConfig("", { admin: "" })), world.adapters),
    1,
  );
  assert.match(world.memory.output.stderr.join(""), /add <admin token="…"\/>/);
  const elsewhere = await loaded(CONFIG.replace(`port="5280"`, `port="5999"`));
  assert.match(await adminStatus(elsewhere, world.adapters), /did not answer: cannot reach/);
  assert.equal(describeSessions({ sessions: [] }), "No session online\n");
});
