/** Tests of the XEP-0363 upload service with the http section, on the memory adapters. */
import assert from "node:assert/strict";
import { denoAdapters } from "../../adapters/deno/mod.ts";
import { loadConfigText } from "../../config/mod.ts";
import { type TestServer, testServer } from "../../server/_testing.ts";
import { builtinModules } from "../mod.ts";
import { NS_DATA_FORMS, NS_DISCO_INFO, NS_HTTP_UPLOAD, NS_STANZAS_ERRORS } from "../../util/ns.ts";
import { parseDocument } from "../../xml/document.ts";
import type { Element } from "../../xml/element.ts";
import { refuseOutOfProcess } from "./placement.ts";

const SERVICE = "upload.localhost";
const ALICE = "alice@localhost/phone";

function config(settings = 'max-size="1KiB" quota="2KiB" expire="1h" sweep="1m"'): string {
  return `<jabberd>
    <service id="upload"><host>${SERVICE}</host>
      <upload xmlns="jabberd:config:upload" ${settings} url="http://files.example/upload/"
        dir="/var/upload"/>
    </service>
    <service id="http">
      <http xmlns="jabberd:config:http"><listen port="0" ip="127.0.0.1"/></http>
    </service>
    <xdb id="xdb"><host/><kv>data/upload.kv</kv></xdb>
  </jabberd>`;
}

/** Asks for a slot as `from`; the reply the users' recorder got. */
async function ask(
  world: TestServer,
  inbox: { element: Element }[],
  attrs: string,
  from = ALICE,
): Promise<Element> {
  const id = `q${inbox.length}-${Math.random()}`;
  world.router.deliver(
    parseDocument(
      `<iq type="get" id="${id}" from="${from}" to="${SERVICE}"><request xmlns="${NS_HTTP_UPLOAD}" ${attrs}/></iq>`,
      "test",
    ).root,
  );
  await world.settle();
  const reply = inbox.find((p) => p.element.attrs.id === id);
  assert.ok(reply, "no reply to the slot request");
  return reply.element;
}

/** The slot's URLs and Authorization header. */
function slotOf(reply: Element) {
  assert.equal(reply.attrs.type, "result", reply.toString());
  const slot = reply.getChild("slot", NS_HTTP_UPLOAD)!;
  const put = slot.getChild("put")!;
  return {
    put: put.attrs.url,
    get: slot.getChild("get")!.attrs.url,
    authorization: put.getChild("header")!.text(),
  };
}

/** The memory http adapter reaches the listener; the configured URL names the public host. */
function local(world: TestServer, url: string): string {
  const { hostname, port } = world.address("http");
  return url.replace("http://files.example", `http://${hostname}:${port}`);
}

function put(world: TestServer, url: string, body: string, headers: Record<string, string>) {
  return world.memory.http.fetch(local(world, url), { method: "PUT", body, headers });
}

Deno.test("upload grants a slot, the http section stores the PUT and serves it to a GET", async () => {
  await using world = await testServer(config());
  const inbox = world.collect("users", ["localhost"]);
  const slot = slotOf(
    await ask(world, inbox, 'filename="my photo.txt" size="5" content-type="text/plain"'),
  );
  assert.match(slot.put, /^http:\/\/files\.example\/upload\/[0-9a-f]{32}\/my%20photo\.txt$/);
  assert.equal(slot.get, slot.put);
  assert.match(slot.authorization, /^Bearer [0-9a-f]{32}$/);
  assert.equal((await world.memory.http.fetch(local(world, slot.get))).status, 404);
  const stored = await put(world, slot.put, "hello", {
    authorization: slot.authorization,
    "content-type": "text/plain",
  });
  assert.equal(stored.status, 201, await stored.text());
  const got = await world.memory.http.fetch(local(world, slot.get));
  assert.equal(got.status, 200);
  assert.equal(got.headers.get("content-type"), "text/plain");
  assert.equal(await got.text(), "hello");
  const again = await put(world, slot.put, "world", { authorization: slot.authorization });
  assert.equal(again.status, 409);
  await again.body?.cancel();
});

Deno.test("upload refuses a PUT without the slot's token or of another size", async () => {
  await using world = await testServer(config());
  const inbox = world.collect("users", ["localhost"]);
  const slot = slotOf(await ask(world, inbox, 'filename="a.bin" size="3"'));
  for (
    const [body, headers, status] of [
      ["abc", {}, 403],
      ["abc", { authorization: "Bearer 00000000000000000000000000000000" }, 403],
      ["abcd", { authorization: slot.authorization }, 413],
    ] as const
  ) {
    const response = await put(world, slot.put, body, headers);
    assert.equal(response.status, status, await response.text());
  }
  assert.equal((await world.memory.http.fetch(local(world, slot.get))).status, 404);
  const other = local(world, slot.put).replace(/\/[0-9a-f]{32}\//, `/${"1".repeat(32)}/`);
  const unknown = await world.memory.http.fetch(other, {
    method: "PUT",
    body: "abc",
    headers: { authorization: slot.authorization },
  });
  assert.equal(unknown.status, 404);
  await unknown.body?.cancel();
});

Deno.test("upload answers file-too-large with the limit, and resource-constraint over quota", async () => {
  await using world = await testServer(config());
  const inbox = world.collect("users", ["localhost"]);
  const large = await ask(world, inbox, 'filename="big" size="1025"');
  assert.equal(large.attrs.type, "error");
  const error = large.getChild("error")!;
  assert.ok(error.getChild("not-acceptable", NS_STANZAS_ERRORS));
  assert.equal(
    error.getChild("file-too-large", NS_HTTP_UPLOAD)?.getChildText("max-file-size"),
    "1024",
  );
  slotOf(await ask(world, inbox, 'filename="one" size="1024"'));
  slotOf(await ask(world, inbox, 'filename="two" size="1000"'));
  const over = await ask(world, inbox, 'filename="three" size="100"');
  assert.equal(over.attrs.type, "error");
  assert.ok(over.getChild("error")!.getChild("resource-constraint", NS_STANZAS_ERRORS));
  // The quota is per user.
  slotOf(await ask(world, inbox, 'filename="three" size="100"', "bob@localhost/pc"));
});

Deno.test("upload deletes expired files and slots, which frees the quota", async () => {
  await using world = await testServer(
    config('max-size="2KiB" quota="2KiB" expire="1h" sweep="10m"'),
  );
  const inbox = world.collect("users", ["localhost"]);
  const slot = slotOf(await ask(world, inbox, 'filename="f" size="2000"'));
  const stored = await put(world, slot.put, "x".repeat(2000), {
    authorization: slot.authorization,
  });
  assert.equal(stored.status, 201);
  assert.equal(world.memory.files.blobs.size, 1);
  await world.memory.clock.advanceAsync(30 * 60_000);
  await world.settle();
  assert.equal((await world.memory.http.fetch(local(world, slot.get))).status, 200);
  assert.equal(world.memory.files.blobs.size, 1);
  await world.memory.clock.advanceAsync(31 * 60_000);
  await world.settle();
  assert.equal(world.memory.files.blobs.size, 0);
  const gone = await world.memory.http.fetch(local(world, slot.get));
  assert.equal(gone.status, 404);
  await gone.body?.cancel();
  assert.equal((await world.xdb.get(SERVICE, "jabberd:upload:slots"))?.elements.length ?? 0, 0);
  slotOf(await ask(world, inbox, 'filename="g" size="2000"'));
});

Deno.test("upload answers disco#info with its feature and max-file-size (XEP-0363 §3)", async () => {
  await using world = await testServer(config());
  const inbox = world.collect("users", ["localhost"]);
  world.router.deliver(
    parseDocument(
      `<iq type="get" id="d1" from="${ALICE}" to="${SERVICE}"><query xmlns="${NS_DISCO_INFO}"/></iq>`,
      "test",
    ).root,
  );
  await world.settle();
  const query = inbox.find((p) => p.element.attrs.id === "d1")!.element.getChild("query")!;
  assert.equal(query.getChild("identity")?.attrs.category, "store");
  assert.ok(query.elements.some((e) => e.is("feature") && e.attrs.var === NS_HTTP_UPLOAD));
  const fields = query.getChild("x", NS_DATA_FORMS)!.elements;
  assert.deepEqual(
    fields.map((f) => [f.attrs.var, f.getChildText("value")]),
    [["FORM_TYPE", NS_HTTP_UPLOAD], ["max-file-size", "1024"]],
  );
});

/** What `jabberd check` says about `text` (no files, no environment). */
async function checkProblems(text: string): Promise<string[]> {
  const { problems } = await loadConfigText(text, "/etc/jabberd/jabberd.xml", {
    readTextFile: () => Promise.reject(new Error("no files")),
    env: () => undefined,
  }, builtinModules);
  return problems.map((p) => `${p.line}: ${p.message}`);
}

Deno.test("muc-component 2: jabberd check refuses <upload> in a config without an http section, saying why", async () => {
  assert.deepEqual(await checkProblems(config()), []);
  const withoutHttp = config().replace(/<service id="http">[\s\S]*?<\/service>/, "");
  assert.doesNotMatch(withoutHttp, /jabberd:config:http/);
  const problems = await checkProblems(withoutHttp);
  assert.equal(problems.length, 1, problems.join("\n"));
  // Reported at the <upload> element (line 3 of the config), with what to do.
  assert.match(problems[0], /^3: <upload> needs an <http xmlns="jabberd:config:http"> section/);
  assert.match(problems[0], /add one .*or remove this <upload>/);
});

Deno.test("muc-component 2: the upload service refuses to start in a <fork> child or a worker thread", async () => {
  const element = (text: string) => parseDocument(text, "test").root;
  assert.throws(
    () => refuseOutOfProcess(element(`<fork path="src/modules/upload/mod.ts"/>`)),
    /cannot run in a <fork> child process: the http section serves its files/,
  );
  assert.throws(
    () => refuseOutOfProcess(element(`<load thread="worker" path="src/modules/upload/mod.ts"/>`)),
    /cannot run in a worker thread/,
  );
  refuseOutOfProcess(element(`<upload xmlns="jabberd:config:upload"/>`));
  refuseOutOfProcess(element(`<load path="src/modules/upload/mod.ts"/>`));
  // Loaded for real in a worker, the section fails to start and is stopped, saying why.
  const root = new URL("../../../", import.meta.url).pathname;
  const world = await testServer(
    `<jabberd>
      <service id="upload"><host>${SERVICE}</host>
        <load thread="worker" path="src/modules/upload/mod.ts"/></service>
      <xdb id="xdb"><host/><kv>:memory:</kv></xdb>
    </jabberd>`,
    { adapters: denoAdapters(), file: `${root}jabberd.xml` },
  );
  try {
    const failed = /upload failed to start.*cannot run in a worker thread/;
    for (let i = 0; i < 200 && !world.logLines().some((line) => failed.test(line)); i++) {
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    assert.ok(world.logLines().some((line) => failed.test(line)), world.logLines().join("\n"));
  } finally {
    await world.stop();
  }
});
