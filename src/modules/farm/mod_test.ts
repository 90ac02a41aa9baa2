/**
 * `<farm>`'s settings as `jabberd check` sees them, the node id kept in the data folder, and a
 * clear sentence when NATS cannot be reached (docs/farm.md, ROUTING.md R40).
 */
import assert from "node:assert/strict";
import { memoryAdapters } from "../../adapters/memory/mod.ts";
import { formatProblem, loadConfigText } from "../../config/mod.ts";
import { testServer } from "../../server/_testing.ts";
import { builtinModules } from "../mod.ts";
import { keptNodeId } from "./node_id.ts";

async function problems(farm: string): Promise<string[]> {
  const { problems } = await loadConfigText(
    `<jabberd><service id="farm">${farm}</service></jabberd>`,
    "/etc/jabberd/jabberd.xml",
    { readTextFile: () => Promise.reject(new Error("no includes")), env: () => undefined },
    builtinModules,
  );
  return problems.map(formatProblem);
}

Deno.test("R40 <farm> settings: defaults pass, and check names a bad node id, URL, ttl or place", async () => {
  assert.deepEqual(await problems("<farm/>"), []);
  assert.deepEqual(
    await problems(
      "<farm><node>n1</node><nats>nats://10.0.0.1:4222, nats://10.0.0.2:4222</nats></farm>",
    ),
    [],
  );
  const bad = await problems(
    "<farm><node>n 1</node><nats>http://x</nats><heartbeat>2s</heartbeat><ttl>3s</ttl></farm>",
  );
  assert.equal(bad.length, 3, bad.join("\n"));
  assert.match(bad.join("\n"), /<node> "n 1" may hold only/);
  assert.match(bad.join("\n"), /<nats> "http:\/\/x" is not a nats:\/\/host:port URL/);
  assert.match(bad.join("\n"), /<ttl> must be longer than two <heartbeat>s/);
  assert.match((await problems("<farm><colour>red</colour></farm>")).join("\n"), /colour/);
  const late = await problems(
    `</service><service id="sm"><host>localhost</host><sm xmlns="jabberd:config:sm"/></service>
     <service id="farm2"><farm/>`,
  );
  assert.match(late.join("\n"), /Write the <farm> section before the session manager's section/);
});

Deno.test("R40 a node without <node> makes its id once and keeps it in data/node-id", async () => {
  const { files } = memoryAdapters();
  const made: string[] = [];
  const id = await keptNodeId(files, "/etc/jabberd/data/node-id", (id) => made.push(id));
  assert.match(id, /^node-[0-9a-f]{8}$/);
  assert.equal(await keptNodeId(files, "/etc/jabberd/data/node-id", (id) => made.push(id)), id);
  assert.deepEqual(made, [id]);
  await files.writeTextFile("/etc/jabberd/data/node-id", "not an id!\n");
  await assert.rejects(keptNodeId(files, "/etc/jabberd/data/node-id"), /not a node id/);
});

Deno.test("R40 a farm whose NATS cannot be reached fails to start with a sentence saying so", async () => {
  await using world = await testServer(
    `<jabberd><service id="farm"><farm><node>n1</node></farm></service></jabberd>`,
  );
  assert.match(
    world.logLines().join("\n"),
    /farm failed to start .*The farm could not join NATS at nats:\/\/127\.0\.0\.1:4222: NATS is not available on the memory adapters/,
  );
});
