/**
 * The http component on real sockets (Deno.serve through the Deno adapters): the real
 * `@xmpp/client` (xmpp.js 0.14) logs in over XMPP over WebSocket (RFC 7395), gets its roster and
 * chats with a TCP client; the server refuses a WebSocket without the `xmpp` subprotocol; a raw
 * BOSH client logs in over real HTTP; the admin API refuses what it must.
 */
import assert from "node:assert/strict";
import { client } from "@xmpp/client";
import { denoAdapters } from "../src/adapters/deno/mod.ts";
import { testServer } from "../src/server/_testing.ts";
import { addUser, login } from "../src/modules/c2s/_testing.ts";
import { ADMIN_TOKEN, httpServerConfig, httpUrl } from "../src/modules/http/_testing.ts";
import { JsClient, xml } from "./interop/xmpp_js.ts";
import { NS_CLIENT } from "../src/util/ns.ts";

async function world(http = "") {
  const dir = await Deno.makeTempDir({ prefix: "jabberd-http-" });
  const server = await testServer(httpServerConfig(http, { kv: `${dir}/jabberd.kv` }), {
    adapters: denoAdapters(),
    file: `${dir}/jabberd.xml`,
  });
  return {
    server,
    async [Symbol.asyncDispose]() {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    },
  };
}

/** xmpp.js over `ws://…/xmpp-websocket`, logged in as `user` with `resource`. */
async function jsOverWebSocket(url: string, user: string, resource: string, password = "secret") {
  const xmpp = client({
    service: url,
    domain: "localhost",
    resource,
    username: user,
    password,
  });
  xmpp.reconnect.stop();
  xmpp.on("error", () => {});
  const js = new JsClient(xmpp);
  try {
    js.jid = (await xmpp.start()).toString();
  } catch (error) {
    await js.stop();
    throw error;
  }
  return js;
}

Deno.test("xmpp.js logs in over WebSocket, reads its roster and chats with a TCP client", async () => {
  await using w = await world();
  const { server } = w;
  await addUser(server, "alice");
  await addUser(server, "bob");
  const url = `${httpUrl(server, "ws")}/xmpp-websocket`;
  const alice = await jsOverWebSocket(url, "alice", "web");
  try {
    assert.equal(alice.jid, "alice@localhost/web");
    const roster = await alice.request(
      xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })),
    );
    assert.equal(roster.attrs.type, "result");
    const bob = await login(server, "bob", "tcp");
    await alice.send(
      xml("message", { to: "bob@localhost/tcp", type: "chat" }, xml("body", {}, "hi")),
    );
    assert.match(await bob.next(/<\/message>/), /from='alice@localhost\/web'.*<body>hi<\/body>/);
    bob.send("<message to='alice@localhost/web' type='chat'><body>hello web</body></message>");
    const got = await alice.waitFor("bob's message", (s) => s.is("message"));
    assert.equal(got.getChildText("body", NS_CLIENT), "hello web");
    bob.conn.close();
  } finally {
    await alice.stop();
  }
});

Deno.test("xmpp.js over WebSocket is refused with a wrong password", async () => {
  await using w = await world();
  await addUser(w.server, "alice");
  const url = `${httpUrl(w.server, "ws")}/xmpp-websocket`;
  await assert.rejects(jsOverWebSocket(url, "alice", "web", "wrong"), /not-authorized/);
});

Deno.test("a real WebSocket without the xmpp subprotocol is refused, with it the protocol is echoed", async () => {
  await using w = await world();
  const url = `${httpUrl(w.server, "ws")}/xmpp-websocket`;
  const refused = new WebSocket(url, ["chat"]);
  const outcome = await new Promise<string>((resolve) => {
    refused.onopen = () => resolve("open");
    refused.onerror = () => resolve("error");
  });
  assert.equal(outcome, "error");
  const accepted = new WebSocket(url, ["xmpp"]);
  await new Promise((resolve, reject) => {
    accepted.onopen = resolve;
    accepted.onerror = reject;
  });
  assert.equal(accepted.protocol, "xmpp");
  const closed = new Promise((resolve) => accepted.onclose = resolve);
  const first = new Promise<string>((resolve) => accepted.onmessage = (e) => resolve(e.data));
  accepted.send(
    "<open xmlns='urn:ietf:params:xml:ns:xmpp-framing' to='nowhere.example' version='1.0'/>",
  );
  assert.match(await first, /^<open /);
  await closed; // host-unknown closes the stream and the socket
});

Deno.test("a raw BOSH client logs in over real HTTP and the admin API refuses a missing or wrong token", async () => {
  await using w = await world();
  const { server } = w;
  await addUser(server, "alice");
  const bind = `${httpUrl(server)}/http-bind`;
  const post = async (body: string) => {
    const response = await fetch(bind, { method: "POST", body });
    assert.equal(response.headers.get("access-control-allow-origin"), "*");
    return await response.text();
  };
  const created = await post(
    "<body xmlns='http://jabber.org/protocol/httpbind' rid='1' to='localhost' wait='5' hold='1' " +
      "xmpp:version='1.0' xmlns:xmpp='urn:xmpp:xbosh'/>",
  );
  const sid = /sid='([^']+)'/.exec(created)![1];
  assert.match(created, /<mechanism>PLAIN<\/mechanism>/);
  const plain = btoa("\0alice\0secret");
  const success = await post(
    `<body xmlns='http://jabber.org/protocol/httpbind' rid='2' sid='${sid}'>` +
      `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${plain}</auth></body>`,
  );
  assert.match(success, /<success /);

  const status = `${httpUrl(server)}/admin/status`;
  const none = await fetch(status);
  assert.equal(none.status, 401);
  await none.body?.cancel();
  const wrong = await fetch(status, { headers: { authorization: "Bearer wrong" } });
  assert.equal(wrong.status, 403);
  await wrong.body?.cancel();
  const right = await fetch(status, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  assert.equal(right.status, 200);
  assert.equal((await right.json()).connections, 1);
});

Deno.test("<listen tls='true'> serves https with c2s's certificate", async () => {
  await using w = await world(`<listen port="0" ip="127.0.0.1" tls="true"/>`);
  const { hostname, port } = w.server.address("https");
  const client = Deno.createHttpClient({ caCerts: [w.server.certs.ca] });
  try {
    const response = await fetch(`https://localhost:${port}/.well-known/host-meta.json`, {
      client,
    });
    const json = await response.json();
    assert.equal(hostname, "127.0.0.1");
    assert.equal(json.links[0].href, `wss://localhost:${port}/xmpp-websocket`);
  } finally {
    client.close();
  }
});
