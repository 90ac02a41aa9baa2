import assert from "node:assert/strict";
import { testServer } from "../../server/_testing.ts";
import { addUser, login } from "../c2s/_testing.ts";
import { ADMIN_TOKEN, httpServerConfig, httpUrl, wsLogin } from "./_testing.ts";
import { sameToken } from "./admin.ts";
import { describeStatus } from "../../cli/admin_client.ts";
import type { ModuleDefinition } from "../../server/module_api.ts";
import { type Peer, S2S_PEERS } from "../../server/s2s_peers.ts";

type World = Awaited<ReturnType<typeof testServer>>;

function admin(world: World, path: string, init: RequestInit = {}, from?: string) {
  return world.memory.http.fetch(`${httpUrl(world)}/admin${path}`, {
    ...init,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...init.headers },
  }, from);
}

async function json(response: Promise<Response>) {
  const answer = await response;
  return { status: answer.status, body: await answer.json() };
}

Deno.test("adminGuard() answers 401 without a token, 403 for a wrong one or a non-loopback address", async () => {
  await using world = await testServer(httpServerConfig());
  const url = `${httpUrl(world)}/admin/status`;
  const none = await world.memory.http.fetch(url);
  assert.equal(none.status, 401);
  assert.match(none.headers.get("www-authenticate") ?? "", /^Bearer/);
  await none.body?.cancel();
  const wrong = await world.memory.http.fetch(url, { headers: { authorization: "Bearer nope" } });
  assert.equal(wrong.status, 403);
  await wrong.body?.cancel();
  const remote = await admin(world, "/status", {}, "192.0.2.7");
  assert.equal(remote.status, 403);
  assert.match((await remote.json()).error, /<admin allow>/);
  assert.equal((await admin(world, "/status", {}, "::1")).status, 200);
  assert.equal((await admin(world, "/status", {}, "::ffff:127.0.0.1")).status, 200);
});

Deno.test("<admin allow> lets the listed ranges in and no others", async () => {
  await using world = await testServer(
    httpServerConfig("", { admin: `<admin token="${ADMIN_TOKEN}" allow="192.0.2.0/24"/>` }),
  );
  assert.equal((await admin(world, "/status", {}, "192.0.2.7")).status, 200);
  assert.equal((await admin(world, "/status", {}, "127.0.0.1")).status, 403);
});

Deno.test("without <admin> there is no admin API", async () => {
  await using world = await testServer(httpServerConfig("", { admin: "" }));
  const answer = await admin(world, "/status");
  assert.equal(answer.status, 404);
  await answer.body?.cancel();
});

Deno.test("sameToken() compares whole tokens", () => {
  assert.equal(sameToken("abc", "abc"), true);
  assert.equal(sameToken("abd", "abc"), false);
  assert.equal(sameToken("ab", "abc"), false);
  assert.equal(sameToken("abcd", "abc"), false);
});

Deno.test("the admin API lists sessions by transport and kicks one", async () => {
  await using world = await testServer(httpServerConfig());
  await addUser(world, "alice");
  await addUser(world, "bob");
  const alice = await wsLogin(world, "alice", "web");
  const bob = await login(world, "bob", "tcp");
  const { body } = await json(admin(world, "/sessions"));
  const seen = body.sessions.map((s: { jid: string; transport: string }) =>
    `${s.jid} ${s.transport}`
  );
  assert.deepEqual(seen.sort(), ["alice@localhost/web websocket", "bob@localhost/tcp tcp"]);
  const status = await json(admin(world, "/status"));
  assert.equal(status.body.sessions, 2);
  assert.ok(status.body.sections.some((s: { id: string }) => s.id === "http"));

  const kicked = await json(admin(world, "/kick", {
    method: "POST",
    body: JSON.stringify({ jid: "bob@localhost" }),
  }));
  assert.deepEqual(kicked, { status: 200, body: { kicked: 1 } });
  assert.match(
    await bob.next(/<\/stream:stream>/),
    /<policy-violation .*Disconnected by the administrator/,
  );
  alice.send("<presence xmlns='jabber:client'/>");
  const after = await json(admin(world, "/sessions"));
  assert.deepEqual(after.body.sessions.map((s: { jid: string }) => s.jid), ["alice@localhost/web"]);
});

Deno.test("the admin API adds an account, changes its password, lists and deletes it", async () => {
  await using world = await testServer(httpServerConfig());
  const add = (password: string) =>
    json(admin(world, "/accounts", {
      method: "POST",
      body: JSON.stringify({ jid: "carol@localhost", password }),
    }));
  assert.deepEqual(await add("first"), { status: 201, body: { created: "carol@localhost" } });
  assert.equal((await add("again")).status, 409);
  const changed = await json(admin(world, "/accounts/carol@localhost/password", {
    method: "POST",
    body: JSON.stringify({ password: "second" }),
  }));
  assert.equal(changed.status, 200);
  const carol = await wsLogin(world, "carol", "web", "second");
  const listed = await json(admin(world, "/accounts?host=localhost"));
  assert.deepEqual(listed.body.accounts, ["carol@localhost"]);
  const deleted = await json(admin(world, "/accounts/carol@localhost", { method: "DELETE" }));
  assert.equal(deleted.status, 200);
  await carol.waitClosed();
  assert.equal(
    (await json(admin(world, "/accounts/carol@localhost", { method: "DELETE" }))).status,
    404,
  );
  assert.equal((await json(admin(world, "/accounts", { method: "POST", body: "{}" }))).status, 400);
});

Deno.test("the admin API announces to every session, shows the tree and sections, and cannot reload without a file", async () => {
  await using world = await testServer(httpServerConfig());
  await addUser(world, "alice");
  const alice = await wsLogin(world, "alice", "web");
  const sent = await json(admin(world, "/announce", {
    method: "POST",
    body: JSON.stringify({ body: "Maintenance at noon" }),
  }));
  assert.deepEqual(sent.body, { sent: 1 });
  assert.match(await alice.next(/Maintenance at noon/), /from='localhost'/);
  const tree = await json(admin(world, "/tree"));
  assert.ok(
    tree.body.tree.some((e: { kind: string; pattern: string; ids: string[] }) =>
      e.kind === "normal" && e.pattern === "localhost" && e.ids.includes("sessions")
    ),
  );
  const sections = await json(admin(world, "/sections"));
  const c2s = sections.body.sections.find((s: { id: string }) => s.id === "c2s");
  assert.equal(c2s.counters.logins, 1);
  assert.equal(c2s.counters.connections, 1);
  assert.ok(sections.body.http.admin >= 3);
  assert.equal((await json(admin(world, "/reload", { method: "POST" }))).status, 501);
});

Deno.test("POST /admin/reload asks the server to reload as SIGHUP does, answering 202", async () => {
  await using world = await testServer(httpServerConfig());
  let reloads = 0;
  world.server.reloader = () => void reloads++;
  const answer = await json(admin(world, "/reload", { method: "POST" }));
  assert.deepEqual(answer, { status: 202, body: { reloading: true } });
  assert.equal(reloads, 1);
});

Deno.test("the admin API lists the federation peers s2s offers, in /status and /peers", async () => {
  const peers: Peer[] = [{
    domain: "remote.example",
    direction: "outbound",
    locals: ["localhost"],
  }];
  // Stands for an s2s section: the offer is the contract, not the module.
  const fakeS2s: ModuleDefinition = {
    element: "test:fake-s2s",
    sections: ["service"],
    register(api) {
      api.offer(S2S_PEERS, () => peers);
    },
  };
  const config = httpServerConfig().replace(
    "</jabberd>",
    `<service id="s2s"><fake-s2s xmlns="test:fake-s2s"/></service></jabberd>`,
  );
  await using world = await testServer(config, { modules: [fakeS2s] });
  const status = await json(admin(world, "/status"));
  assert.deepEqual(status.body.peers, peers);
  assert.deepEqual((await json(admin(world, "/peers"))).body, { peers });
  assert.match(describeStatus(status.body), /federation peers: remote\.example \(outbound\)/);
});
