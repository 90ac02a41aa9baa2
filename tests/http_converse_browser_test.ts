/**
 * A real browser client: headless Chromium (Debian `chromium`) loads Converse.js (npm
 * `converse.js`, served by a test page) for alice@localhost. Converse finds our WebSocket endpoint
 * through XEP-0156 (`https://localhost/.well-known/host-meta`, which Chromium's host rules send to
 * the http component's TLS listener), logs in, and shows the message a TCP client sends; the test
 * reads the page's text through the DevTools protocol.
 */
import assert from "node:assert/strict";
import { denoAdapters } from "../src/adapters/deno/mod.ts";
import { addUser, login } from "../src/modules/c2s/_testing.ts";
import { ADMIN_TOKEN, httpServerConfig, httpUrl } from "../src/modules/http/_testing.ts";
import { testServer } from "../src/server/_testing.ts";
import { chromium, needs } from "./interop/peers.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const CONVERSE = `${ROOT}node_modules/converse.js/dist/`;

/** Makes sure the npm package is in node_modules (it is an asset, never imported). */
async function installConverse(): Promise<void> {
  try {
    await Deno.stat(`${CONVERSE}converse.min.js`);
  } catch {
    const { success } = await new Deno.Command(Deno.execPath(), { args: ["install"], cwd: ROOT })
      .output();
    assert.ok(success, "deno install could not fetch converse.js");
  }
}

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>Converse</title>
<link rel="stylesheet" href="/dist/converse.min.css">
</head><body><script type="module">
import "/dist/converse.min.js"; // an ES module that sets window.converse
window.converse.initialize({
  assets_path: "/dist/",
  discover_connection_methods: true,
  jid: "alice@localhost",
  password: "secret",
  auto_login: true,
  view_mode: "fullscreen",
  play_sounds: false,
  show_desktop_notifications: false,
  allow_non_roster_messaging: true,
  persistent_store: "sessionStorage",
});
</script></body></html>`;

/** Serves the test page and Converse's files on 127.0.0.1. */
function pageServer(): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/") return new Response(PAGE, { headers: { "content-type": "text/html" } });
    if (!path.startsWith("/dist/") || path.includes("..")) {
      return new Response("Not found", { status: 404 });
    }
    try {
      const body = await Deno.readFile(CONVERSE + path.slice("/dist/".length));
      const type = path.endsWith(".js")
        ? "text/javascript"
        : path.endsWith(".css")
        ? "text/css"
        : path.endsWith(".wasm")
        ? "application/wasm"
        : "application/octet-stream";
      return new Response(body, { headers: { "content-type": type } });
    } catch {
      return new Response("Not found", { status: 404 });
    }
  });
}

/** Evaluates `expression` in the page Chromium shows, through the DevTools protocol. */
async function evaluate(devtools: string, expression: string): Promise<unknown> {
  const targets = await (await fetch(`${devtools}/json/list`)).json();
  const page = targets.find((t: { type: string }) => t.type === "page");
  if (!page) return undefined;
  const socket = new WebSocket(page.webSocketDebuggerUrl);
  try {
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = reject;
    });
    const answer = new Promise<unknown>((resolve) => {
      socket.onmessage = (event) => {
        const message = JSON.parse(event.data);
        if (message.id === 1) resolve(message.result?.result?.value);
      };
    });
    socket.send(JSON.stringify({
      id: 1,
      method: "Runtime.evaluate",
      params: { expression, returnByValue: true },
    }));
    return await answer;
  } finally {
    socket.close();
  }
}

/** The text of the page, as a person reads it. */
async function pageText(devtools: string): Promise<string> {
  return String(await evaluate(devtools, "document.body ? document.body.innerText : ''") ?? "");
}

async function until<T>(what: string, check: () => Promise<T | undefined>, ms = 30_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

Deno.test(
  needs(
    await chromium(),
    "Converse.js in Chromium finds the WebSocket by XEP-0156, logs in and shows a TCP client's message",
    async () => {
      await installConverse();
      const dir = await Deno.makeTempDir({ prefix: "jabberd-converse-" });
      const world = await testServer(
        httpServerConfig(`<listen port="0" ip="127.0.0.1" tls="true"/>`, {
          kv: `${dir}/jabberd.kv`,
        }),
        { adapters: denoAdapters(), file: `${dir}/jabberd.xml` },
      );
      const page = pageServer();
      const https = world.address("https").port;
      const browser = new Deno.Command("chromium", {
        args: [
          "--headless",
          "--no-sandbox", // tests run as root in CI
          "--disable-gpu",
          "--no-first-run",
          `--user-data-dir=${dir}/chromium`,
          "--remote-debugging-port=0",
          "--enable-logging=stderr",
          // The test CA is not the system's: the certificate is checked by the other tests.
          "--ignore-certificate-errors",
          `--host-resolver-rules=MAP localhost 127.0.0.1:${https}`,
          `http://127.0.0.1:${page.addr.port}/`,
        ],
        stdout: "null",
        stderr: "piped",
      }).spawn();
      const stderr = browser.stderr.pipeThrough(new TextDecoderStream()).getReader();
      try {
        await addUser(world, "alice");
        await addUser(world, "bob");
        let log = "";
        const devtools = await until("the DevTools address", async () => {
          const { value, done } = await stderr.read();
          if (done) throw new Error(`chromium ended: ${log}`);
          log += value;
          const match = /DevTools listening on ws:\/\/([^/\s]+)\//.exec(log);
          return match ? `http://${match[1]}` : undefined;
        });
        void (async () => {
          for (let chunk = await stderr.read(); !chunk.done; chunk = await stderr.read()) {
            log = (log + chunk.value).slice(-4000);
          }
        })().catch(() => {});
        const sessions = async () => {
          const answer = await fetch(`${httpUrl(world)}/admin/sessions`, {
            headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
          });
          return (await answer.json()).sessions as { jid: string; transport: string }[];
        };
        const alice = await until("Converse to log in", async () => {
          const online = (await sessions()).find((s) => s.jid.startsWith("alice@localhost/"));
          return online;
        }).catch(async (error) => {
          const shown = await pageText(devtools).catch(() => "");
          const logs = world.logLines().slice(-15).join("\n");
          throw new Error(
            `${error.message}; the page shows:\n${shown}\nthe server logged:\n${logs}\n` +
              `chromium wrote:\n${log}`,
          );
        });
        assert.equal(alice.transport, "websocket");
        const bob = await login(world, "bob", "tcp");
        bob.send(
          `<message to='${alice.jid}' type='chat'><body>hello from a TCP client</body></message>`,
        );
        // The roster shows one unread message from bob; open the chat as a person would.
        await until(
          "bob's unread message in the roster",
          async () => (await pageText(devtools)).includes("New messages") ? true : undefined,
        );
        await evaluate(
          devtools,
          `[...document.querySelectorAll("a.open-chat")]
            .find((a) => a.textContent.includes("bob@localhost"))?.click()`,
        );
        let shown = "";
        const text = await until("the message in the page", async () => {
          shown = await pageText(devtools);
          return shown.includes("hello from a TCP client") ? shown : undefined;
        }, 20_000).catch((error) => {
          throw new Error(`${error.message}; the page shows:\n${shown}`);
        });
        assert.match(text, /hello from a TCP client/);
        bob.conn.close();
      } finally {
        browser.kill("SIGKILL");
        await browser.status;
        await stderr.cancel().catch(() => {});
        await page.shutdown();
        await world.stop();
        await Deno.remove(dir, { recursive: true });
      }
    },
  ),
);
