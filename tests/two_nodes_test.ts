/**
 * Issue 4 item 2 ("Done when"): two jabberd nodes in one process on real sockets, joined by a
 * `<connect link="node">`/`<accept link="node">` node link, serve one domain: node A runs c2s
 * only, node B the session manager and XDB; two clients register, log in and chat through them.
 */
import assert from "node:assert/strict";
import { denoAdapters } from "../src/adapters/deno/mod.ts";
import { testC2sSection, testServer } from "../src/server/_testing.ts";
import type { InteropServer } from "./interop/harness.ts";
import { connect, register, xml } from "./interop/xmpp_js.ts";

function startNode(text: string, dir: string) {
  return testServer(text, { file: `${dir}/jabberd.xml`, adapters: denoAdapters() });
}

Deno.test("Issue 4.2 two nodes joined by a node link serve one domain: c2s on one, sm and XDB on the other", async () => {
  const dir = await Deno.makeTempDir({ prefix: "jabberd-two-nodes-" });
  // Node B: the session manager and XDB; route and xdb replies for c2s-a go back over the link.
  const nodeB = await startNode(
    `<jabberd>
  <service id="sessions"><host>localhost</host><sm xmlns="jabberd:config:sm"/></service>
  <xdb id="xdb"><host/><kv>${dir}/b.kv</kv></xdb>
  <service id="from-node-a">
    <host>c2s-a</host>
    <accept link="node"><ip>127.0.0.1</ip><port>0</port><secret>farm-secret</secret></accept>
  </service>
</jabberd>`,
    dir,
  );
  const port = nodeB.address("accept").port;
  const link = (id: string, kind: "service" | "xdb") =>
    `<${kind} id="${id}"><host>localhost</host>
    <connect link="node"><ip>127.0.0.1</ip><port>${port}</port><secret>farm-secret</secret>
      <retry min="100ms" max="1s"/></connect></${kind}>`;
  // Node A: c2s only; sessions (route) and storage (xdb) for localhost travel to node B.
  const nodeA = await startNode(
    `<jabberd>
  ${testC2sSection("c2s-a")}
  ${link("sessions-on-b", "service")}
  ${link("xdb-on-b", "xdb")}
</jabberd>`,
    dir,
  );
  const c2s = nodeA.address("c2s");
  const server = { domain: "localhost", hostname: c2s.hostname, port: c2s.port } as InteropServer;
  try {
    await register(server, "alice", "pass-alice-1");
    await register(server, "bob", "pass-bob-1");
    const alice = await connect(server, { username: "alice", password: "pass-alice-1" });
    const bob = await connect(server, { username: "bob", password: "pass-bob-1" });
    try {
      await alice.send(xml("message", { to: bob.jid, type: "chat" }, xml("body", {}, "hi bob")));
      const got = await bob.waitFor("alice's message", (s) => s.is("message"));
      assert.equal(got.getChildText("body"), "hi bob");
      assert.equal(got.attrs.from, alice.jid);
      await bob.send(xml("message", { to: alice.bare, type: "chat" }, xml("body", {}, "hi alice")));
      const back = await alice.waitFor("bob's reply", (s) => s.is("message"));
      assert.equal(back.getChildText("body"), "hi alice");
    } finally {
      await alice.stop();
      await bob.stop();
    }
  } catch (error) {
    console.error([...nodeB.logLines(), ...nodeA.logLines()].join("\n"));
    throw error;
  } finally {
    await nodeA.stop();
    await nodeB.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
});
