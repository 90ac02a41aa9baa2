/**
 * The Deno Deploy entry (deploy/main.ts) under `deno serve`, two processes sharing one KV file
 * as two isolates: xmpp.js over WebSocket (RFC 7395) logs alice into one and bob into the other,
 * their messages cross through the KV queue, and once bob's isolate is gone a message for him is
 * stored offline (XEP-0160) and delivered when he logs in to the other.
 */
import assert from "node:assert/strict";
import { client } from "@xmpp/client";
import { denoAdapters } from "../src/adapters/deno/mod.ts";
import { testServer } from "../src/server/_testing.ts";
import { addUser, c2sSection } from "../src/modules/c2s/_testing.ts";
import { JsClient, xml } from "./interop/xmpp_js.ts";

const ENTRY = new URL("../deploy/main.ts", import.meta.url).pathname;
const TTL_MS = 1500;

/** A port nothing listens on now (`deno serve` does not say which port 0 became). */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/** One isolate: `deno serve` on the entry, ready once it answers XEP-0156 discovery. */
async function isolate(kvPath: string) {
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["serve", "-A", "--host", "127.0.0.1", "--port", String(port), ENTRY],
    env: { JABBERD_KV: kvPath, JABBERD_ISOLATE_TTL_MS: String(TTL_MS) },
    stdout: "null",
    stderr: "null",
  }).spawn();
  const url = `http://127.0.0.1:${port}`;
  for (let attempt = 0;; attempt++) {
    try {
      const response = await fetch(`${url}/.well-known/host-meta`);
      await response.body?.cancel();
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    if (attempt === 200) {
      child.kill("SIGKILL");
      await child.status;
      throw new Error(`deno serve ${ENTRY} did not start on port ${port}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    ws: `ws://127.0.0.1:${port}/xmpp-websocket`,
    async kill() {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
      await child.status;
    },
  };
}

/** xmpp.js over WebSocket, logged in as `user`/web with initial presence sent. */
async function jsOverWebSocket(url: string, user: string) {
  const xmpp = client({
    service: url,
    domain: "localhost",
    resource: "web",
    username: user,
    password: "secret",
  });
  xmpp.reconnect.stop();
  xmpp.on("error", () => {});
  const js = new JsClient(xmpp);
  try {
    js.jid = (await xmpp.start()).toString();
    await js.send(xml("presence"));
  } catch (error) {
    await js.stop();
    throw error;
  }
  return js;
}

/** Waits until KV says `resource` of `bare` is held (the bind's write is asynchronous). */
async function owned(kv: Deno.Kv, bare: string) {
  for (let attempt = 0; attempt < 100; attempt++) {
    if ((await kv.get(["sessions", bare, "web"])).value) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${bare}/web never became owned in KV`);
}

/** The other isolates see a new owner at their next read of KV (every 100 ms). */
function seen() {
  return new Promise((resolve) => setTimeout(resolve, 500));
}

Deno.test("deploy/main.ts under deno serve: two isolates on one KV deliver to each other's users, and offline once one is gone", async () => {
  const dir = await Deno.makeTempDir({ prefix: "jabberd-deploy-" });
  const kvPath = `${dir}/jabberd.kv`;
  const accounts = await testServer(
    `<jabberd>
      ${c2sSection()}
      <xdb id="xdb"><host/><kv>${kvPath}</kv></xdb>
    </jabberd>`,
    { adapters: denoAdapters(), file: `${dir}/jabberd.xml` },
  );
  await addUser(accounts, "alice");
  await addUser(accounts, "bob");
  await accounts.stop();
  const kv = await Deno.openKv(kvPath);
  const a = await isolate(kvPath);
  const clients: JsClient[] = [];
  try {
    const b = await isolate(kvPath);
    try {
      const alice = await jsOverWebSocket(a.ws, "alice");
      clients.push(alice);
      const bob = await jsOverWebSocket(b.ws, "bob");
      clients.push(bob);
      await owned(kv, "bob@localhost");
      await owned(kv, "alice@localhost");
      await seen();
      await alice.send(
        xml("message", { to: "bob@localhost/web", type: "chat" }, xml("body", {}, "hi from A")),
      );
      const got = await bob.waitFor("alice's message", (s) => s.is("message"));
      assert.equal(got.getChildText("body"), "hi from A");
      assert.equal(got.attrs.from, "alice@localhost/web");
      await bob.send(
        xml("message", { to: "alice@localhost", type: "chat" }, xml("body", {}, "hi from B")),
      );
      const back = await alice.waitFor("bob's message", (s) => s.is("message"));
      assert.equal(back.getChildText("body"), "hi from B");
    } finally {
      // Bob's isolate is recycled without a word: his ownership in KV only expires.
      await b.kill();
    }
    await clients.pop()!.stop();
    const alice = clients[0];
    await alice.send(
      xml("message", { to: "bob@localhost", type: "chat" }, xml("body", {}, "while away")),
    );
    await new Promise((resolve) => setTimeout(resolve, TTL_MS + 500));
    const bob = await jsOverWebSocket(a.ws, "bob");
    clients.push(bob);
    const stored = await bob.waitFor("the offline message", (s) => s.is("message"));
    assert.equal(stored.getChildText("body"), "while away");
  } finally {
    for (const js of clients) await js.stop();
    await a.kill();
    kv.close();
    await Deno.remove(dir, { recursive: true });
  }
});
