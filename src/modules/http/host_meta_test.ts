import assert from "node:assert/strict";
import { testServer } from "../../server/_testing.ts";
import { httpServerConfig, httpUrl } from "./_testing.ts";
import { hostMetaJson, hostMetaXml } from "./host_meta.ts";

Deno.test("hostMetaXml() and hostMetaJson() name both endpoints on the request's origin (XEP-0156 §3)", () => {
  const url = new URL("https://chat.example.org:5281/.well-known/host-meta");
  const json = JSON.parse(hostMetaJson(url, { websocket: true, bosh: true }));
  assert.deepEqual(json.links, [
    {
      rel: "urn:xmpp:alt-connections:websocket",
      href: "wss://chat.example.org:5281/xmpp-websocket",
    },
    { rel: "urn:xmpp:alt-connections:xbosh", href: "https://chat.example.org:5281/http-bind" },
  ]);
  const xml = hostMetaXml(new URL("http://localhost:5280/"), { websocket: true, bosh: false });
  assert.match(xml, /<XRD xmlns='http:\/\/docs.oasis-open.org\/ns\/xri\/xrd-1.0'>/);
  assert.match(
    xml,
    /rel="urn:xmpp:alt-connections:websocket" href="ws:\/\/localhost:5280\/xmpp-websocket"/,
  );
  assert.doesNotMatch(xml, /xbosh/);
});

Deno.test("the http component serves host-meta with CORS, and leaves out a disabled endpoint", async () => {
  await using world = await testServer(
    httpServerConfig(`<bosh enabled="false"/>`).replace(
      `<bosh consider-secure="true"/>`,
      "",
    ),
  );
  const base = httpUrl(world);
  const xml = await world.memory.http.fetch(`${base}/.well-known/host-meta`);
  assert.equal(xml.headers.get("access-control-allow-origin"), "*");
  assert.match(xml.headers.get("content-type") ?? "", /^application\/xrd\+xml/);
  const text = await xml.text();
  assert.match(text, new RegExp(`ws://127.0.0.1:${world.address("http").port}/xmpp-websocket`));
  assert.doesNotMatch(text, /http-bind/);
  const json = await (await world.memory.http.fetch(`${base}/.well-known/host-meta.json`)).json();
  assert.equal(json.links.length, 1);
  const bind = await world.memory.http.fetch(`${base}/http-bind`, {
    method: "POST",
    body: "<body/>",
  });
  assert.equal(bind.status, 404);
  await bind.body?.cancel();
});
