/**
 * What the Deploy tests share: accounts made in a KV file, isolates as `deno serve` processes of
 * deploy/main.ts on that file (two processes, as Deploy's isolates share one KV; `--parallel`
 * would be threads of one process), and xmpp.js logged in over WebSocket (RFC 7395).
 */
import { client } from "@xmpp/client";
import { denoAdapters } from "../src/adapters/deno/mod.ts";
import { testServer } from "../src/server/_testing.ts";
import { addUser, c2sSection } from "../src/modules/c2s/_testing.ts";
import { JsClient, xml } from "./interop/xmpp_js.ts";
import { freePort } from "./jabberd_process.ts";

const ENTRY = new URL("../deploy/main.ts", import.meta.url).pathname;

/** A temporary directory with a KV file holding the accounts `users` (password "secret"). */
export async function kvWithAccounts(users: string[]) {
  const dir = await Deno.makeTempDir({ prefix: "jabberd-deploy-" });
  const kvPath = `${dir}/jabberd.kv`;
  const accounts = await testServer(
    `<jabberd>
      ${c2sSection()}
      <xdb id="xdb"><host/><kv>${kvPath}</kv></xdb>
    </jabberd>`,
    { adapters: denoAdapters(), file: `${dir}/jabberd.xml` },
  );
  try {
    for (const user of users) await addUser(accounts, user);
  } finally {
    await accounts.stop();
  }
  return { dir, kvPath };
}

export interface Isolate {
  /** The WebSocket endpoint. */
  ws: string;
  /** Ends it with SIGKILL, as Deploy recycles an isolate: nothing runs after. */
  kill(): Promise<void>;
}

/** One isolate: `deno serve` on the entry, ready once it answers XEP-0156 discovery. */
export async function startIsolate(kvPath: string, ttlMs: number): Promise<Isolate> {
  // A port chosen here: `deno serve` does not say which port 0 became.
  const port = freePort();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["serve", "-A", "--host", "127.0.0.1", "--port", String(port), ENTRY],
    env: { JABBERD_KV: kvPath, JABBERD_ISOLATE_TTL_MS: String(ttlMs) },
    // JABBERD_TEST_LOGS=1 shows the isolates' logs.
    stdout: Deno.env.get("JABBERD_TEST_LOGS") ? "inherit" : "null",
    stderr: Deno.env.get("JABBERD_TEST_LOGS") ? "inherit" : "null",
  }).spawn();
  let gone = false;
  const kill = async () => {
    if (!gone) {
      gone = true;
      child.kill("SIGKILL");
    }
    await child.status;
  };
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
      await kill();
      throw new Error(`deno serve ${ENTRY} did not start on port ${port}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { ws: `ws://127.0.0.1:${port}/xmpp-websocket`, kill };
}

/** xmpp.js over WebSocket, logged in as `user`/web with initial presence sent. */
export async function jsOverWebSocket(url: string, user: string, { roster = false } = {}) {
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
    if (roster) {
      await js.request(xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })));
    }
    await js.send(xml("presence"));
  } catch (error) {
    await js.stop();
    throw error;
  }
  return js;
}

/**
 * The start of most Deploy tests: accounts alice and bob in a KV file, isolate A with alice and
 * isolate B with bob (both owned in KV and seen by the other isolate). `close` stops every client
 * still in `clients`, kills every isolate in `isolates` (a test adds the ones it starts; killing
 * one twice is harmless), closes KV and removes the folder.
 */
export interface AliceAndBob {
  dir: string;
  kvPath: string;
  kv: Deno.Kv;
  a: Isolate;
  b: Isolate;
  alice: JsClient;
  bob: JsClient;
  /** alice, then bob; a test that stops one itself takes it out. */
  clients: JsClient[];
  isolates: Isolate[];
  close(): Promise<void>;
}

export async function aliceOnAbobOnB(
  ttlMs: number,
  { roster = false } = {},
): Promise<AliceAndBob> {
  const { dir, kvPath } = await kvWithAccounts(["alice", "bob"]);
  const kv = await Deno.openKv(kvPath);
  const clients: JsClient[] = [];
  const isolates: Isolate[] = [];
  const close = async () => {
    for (const js of clients) await js.stop();
    for (const isolate of isolates) await isolate.kill();
    kv.close();
    await Deno.remove(dir, { recursive: true });
  };
  try {
    const a = await startIsolate(kvPath, ttlMs);
    isolates.push(a);
    const b = await startIsolate(kvPath, ttlMs);
    isolates.push(b);
    const alice = await jsOverWebSocket(a.ws, "alice", { roster });
    clients.push(alice);
    const bob = await jsOverWebSocket(b.ws, "bob", { roster });
    clients.push(bob);
    await owned(kv, "alice@localhost");
    await owned(kv, "bob@localhost");
    await seen();
    return { dir, kvPath, kv, a, b, alice, bob, clients, isolates, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Waits until KV says `bare`/web is held (the bind's write is asynchronous). */
export async function owned(kv: Deno.Kv, bare: string) {
  for (let attempt = 0; attempt < 100; attempt++) {
    if ((await kv.get(["sessions", bare, "web"])).value) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${bare}/web never became owned in KV`);
}

/** The other isolates see a new owner at their next read of KV (every 100 ms). */
export function seen() {
  return new Promise((resolve) => setTimeout(resolve, 500));
}

/** The inbox entries in KV now, of every isolate. */
export async function inboxEntries(kv: Deno.Kv) {
  const entries: Deno.KvEntry<unknown>[] = [];
  for await (const entry of kv.list({ prefix: ["inbox"] })) entries.push(entry);
  return entries;
}

/** Waits (up to `ms`) until the inboxes hold `count` entries, and answers them. */
export async function inboxHolds(kv: Deno.Kv, count: number, ms: number) {
  const deadline = Date.now() + ms;
  for (;;) {
    const entries = await inboxEntries(kv);
    if (entries.length === count) return entries;
    if (Date.now() > deadline) {
      throw new Error(`the inboxes hold ${entries.length} entries, not ${count}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
