/**
 * The MUC service as an external component (ROUTING.md "Links to other processes"): two real
 * `jabberd start` processes on loopback. The server runs c2s, the session manager and XDB, and
 * an `<accept>` for `conference.localhost`; the MUC process runs the `<muc>` section with its own
 * XDB (rooms and their archives) and dials the server with `<connect>`. Real clients (xmpp.js,
 * and slixmpp's xep_0045 after the restart) create a room, join, chat and get the history; the
 * MUC process is killed and started again, the link comes back, and the persistent room goes on.
 * The MUC process runs `jabberd.example.d/muc-component.xml` as it is, the server includes
 * `muc-component-server.xml`: the documented configs are the tested ones.
 */
import assert from "node:assert/strict";
import { denoAdapters } from "../src/adapters/deno/mod.ts";
import { XdbStore } from "../src/modules/xdb/store.ts";
import { TLS_FIXTURES } from "../src/server/_testing.ts";
import { NS_CLIENT, NS_DISCO_ITEMS, NS_MUC_ROOM } from "../src/util/ns.ts";
import type { InteropServer } from "./interop/harness.ts";
import { needs, slixmpp } from "./interop/peers.ts";
import { freePort, JabberdProcess } from "./jabberd_process.ts";
import { runSlixmpp, SLIXMPP_TIMEOUT_S } from "./interop/slixmpp_runner.ts";
import { connect, type JsClient, register, xml, type XmlElement } from "./interop/xmpp_js.ts";

const MUC = "http://jabber.org/protocol/muc";
const DISCO_INFO = "http://jabber.org/protocol/disco#info";
const ROOM = "tea@conference.localhost";
const PASSWORD = "component rooms";
/** How long a process may take to start and link (the first run may compile main.ts). */
const START_MS = 60_000;
const EXAMPLES = new URL("../jabberd.example.d/", import.meta.url).pathname;

const peer = await slixmpp();

/**
 * The server: c2s, sessions and its XDB, and the example's component port for
 * conference.localhost, included as the example says.
 */
function serverConfig(c2sPort: number): string {
  return `<jabberd>
  <pidfile>server.pid</pidfile>
  <service id="c2s">
    <c2s xmlns="jabberd:config:c2s">
      <domain>localhost</domain>
      <listen port="${c2sPort}" address="127.0.0.1"/>
      <certificate host="localhost" cert="${TLS_FIXTURES}localhost.pem" key="${TLS_FIXTURES}localhost.key"/>
      <scram iterations="4096"/>
      <register from="127.0.0.0/8 ::1/128" rate="1000" per="1m"/>
    </c2s>
  </service>
  <service id="sessions"><host>localhost</host><sm xmlns="jabberd:config:sm"/></service>
  <include>${EXAMPLES}muc-component-server.xml</include>
  <xdb id="xdb"><host/><kv>server.kv</kv></xdb>
</jabberd>`;
}

const isSubject = (s: XmlElement) => s.is("message") && s.getChild("subject") !== undefined;
const bodyIs = (text: string) => (s: XmlElement) =>
  s.is("message") && s.getChildText("body", NS_CLIENT) === text;
const statusCodes = (presence: XmlElement) =>
  presence.getChild("x", `${MUC}#user`)?.getChildren("status").map((s) => s.attrs.code) ?? [];

/** Enters the room as `nick` and returns the own presence, the history bodies and the subject. */
async function join(client: JsClient, nick: string) {
  await client.send(
    xml(
      "presence",
      { to: `${ROOM}/${nick}` },
      xml(
        "x",
        { xmlns: MUC },
        xml("history", {
          maxstanzas: "10",
        }),
      ),
    ),
  );
  const own = await client.waitFor(
    `the own presence in ${ROOM}`,
    (s) => s.is("presence") && s.attrs.from === `${ROOM}/${nick}`,
  );
  const subject = await client.waitFor("the subject", isSubject);
  return { own, subject, client };
}

/** The bodies of the history messages (those with a delay) the client received so far. */
function historyBodies(taken: XmlElement[]): string[] {
  return taken.filter((s) => s.getChild("delay", "urn:xmpp:delay")).map((s) =>
    s.getChildText("body", NS_CLIENT) ?? ""
  );
}

Deno.test(
  needs(
    peer,
    "muc-component 1: the MUC service runs as a separate jabberd process joined by an XEP-0114 link; rooms, history and archives survive its restart",
    async () => {
      const dir = await Deno.makeTempDir({ prefix: "jabberd-muc-component-" });
      const c2sPort = freePort();
      const componentPort = freePort();
      await Deno.writeTextFile(`${dir}/server.xml`, serverConfig(c2sPort));
      // Both processes read the examples' variables; the MUC one runs the example file as is.
      const env = {
        JABBERD_HOST: "localhost",
        JABBERD_DATA: dir,
        MUC_SECRET: "muc-link-secret",
        MUC_PORT: String(componentPort),
      };
      const server = new JabberdProcess("server", "server.xml", { cwd: dir, env });
      const muc = new JabberdProcess("muc", `${EXAMPLES}muc-component.xml`, { cwd: dir, env });
      const clients: JsClient[] = [];
      const linked = /connect: linked to 127\.0\.0\.1:\d+ as conference\.localhost/;
      const logs: string[] = [];
      const interop = {
        domain: "localhost",
        hostname: "127.0.0.1",
        port: c2sPort,
        get logs() {
          return [...logs, ...server.output.split("\n"), ...muc.output.split("\n")];
        },
      } as InteropServer;
      try {
        await server.start(/c2s: listening on/);
        await muc.start(linked);
        await server.waitFor(/accept: conference\.localhost connected/);
        await register(interop, "alice", PASSWORD);
        await register(interop, "bob", PASSWORD);
        const alice = await connect(interop, { username: "alice", password: PASSWORD });
        clients.push(alice);
        const bob = await connect(interop, { username: "bob", password: PASSWORD });
        clients.push(bob);

        // The server lists the component's domain among its services (disco#items).
        const services = await alice.request(xml(
          "iq",
          { type: "get", to: "localhost" },
          xml("query", { xmlns: "http://jabber.org/protocol/disco#items" }),
        ));
        const jids = services.getChild("query", NS_DISCO_ITEMS)!.getChildren("item", NS_DISCO_ITEMS)
          .map((i) => i.attrs.jid);
        assert.ok(jids.includes("conference.localhost"), services.toString());

        // Alice creates the room (status 201) and makes it persistent (XEP-0045 §10.1.3).
        const created = await join(alice, "Alice");
        assert.ok(statusCodes(created.own).includes("201"), created.own.toString());
        await alice.request(xml(
          "iq",
          { type: "set", to: ROOM },
          xml(
            "query",
            { xmlns: `${MUC}#owner` },
            xml(
              "x",
              { xmlns: "jabber:x:data", type: "submit" },
              xml("field", { var: "FORM_TYPE" }, xml("value", {}, `${MUC}#roomconfig`)),
              xml("field", { var: "muc#roomconfig_persistentroom" }, xml("value", {}, "1")),
            ),
          ),
        ));
        for (const body of ["one", "two"]) {
          await alice.send(xml("message", { to: ROOM, type: "groupchat" }, xml("body", {}, body)));
          await alice.waitFor(`the reflected "${body}"`, bodyIs(body));
        }

        // Bob joins with the history, and the two chat through both processes.
        bob.clear();
        await bob.send(
          xml("presence", { to: `${ROOM}/Bob` }, xml("x", { xmlns: MUC })),
        );
        await bob.waitFor("Bob's own presence", (s) => s.attrs.from === `${ROOM}/Bob`);
        const history = [
          await bob.waitFor("history one", bodyIs("one")),
          await bob.waitFor("history two", bodyIs("two")),
        ];
        assert.deepEqual(historyBodies(history), ["one", "two"]);
        await bob.waitFor("the subject", isSubject);
        await bob.send(
          xml("message", { to: ROOM, type: "groupchat" }, xml("body", {}, "hi alice")),
        );
        const heard = await alice.waitFor("Bob's message", bodyIs("hi alice"));
        assert.equal(heard.attrs.from, `${ROOM}/Bob`);

        // The MUC process dies while disco#info requests flow. The link between two jabberd
        // processes counts acknowledgements (ROUTING.md R48): what the server wrote to the dying
        // socket, or queued after it, is answered once by the new process, none twice.
        const discoInfo = (id: string) =>
          xml("iq", { type: "get", to: ROOM, id }, xml("query", { xmlns: DISCO_INFO }));
        for (let i = 0; i < 10; i++) await alice.send(discoInfo(`flow-${i}`));
        for (let i = 0; i < 10; i++) {
          await alice.waitFor(`the answer to flow-${i}`, (s) => s.attrs.id === `flow-${i}`);
        }
        // Frozen first, so the server surely writes flow-10…19 into a socket nobody reads; the
        // kill then throws them away with the process. Without acknowledgements they were lost.
        muc.freeze();
        for (let i = 10; i < 20; i++) await alice.send(discoInfo(`flow-${i}`));
        // The server answers a ping only after it routed what Alice sent before it.
        await alice.request(
          xml(
            "iq",
            { type: "get", to: "localhost", id: "after-flow" },
            xml("ping", { xmlns: "urn:xmpp:ping" }),
          ),
        );
        await muc.stop("SIGKILL");
        for (let i = 20; i < 30; i++) await alice.send(discoInfo(`flow-${i}`));
        await alice.send(discoInfo("while-away"));
        await muc.start(linked);
        for (let i = 10; i < 30; i++) {
          const answer = await alice.waitFor(
            `the answer to flow-${i} after the restart`,
            (s) => s.attrs.id === `flow-${i}`,
            START_MS,
          );
          assert.equal(answer.attrs.type, "result", answer.toString());
        }
        const info = await alice.waitFor(
          "the disco#info answered after the restart",
          (s) => s.attrs.id === "while-away",
          START_MS,
        );
        assert.equal(info.attrs.type, "result", info.toString());
        const features = info.getChild("query")!.getChildren("feature").map((f) => f.attrs.var);
        assert.ok(features.includes("muc_persistent"), info.toString());
        // "while-away" went after every flow-N, on the same link in order: a second answer to
        // any of them would have come before it.
        await assert.rejects(
          alice.waitFor("a second answer", (s) => /^flow-/.test(s.attrs.id ?? ""), 0),
        );

        // The occupants were in the old process's memory: they enter again. The room is the
        // stored one (no 201), and the history on entering comes from its archive.
        alice.clear();
        bob.clear();
        const again = await join(alice, "Alice");
        assert.ok(!statusCodes(again.own).includes("201"), again.own.toString());
        await bob.send(
          xml("presence", { to: `${ROOM}/Bob` }, xml("x", { xmlns: MUC })),
        );
        await bob.waitFor("Bob's own presence again", (s) => s.attrs.from === `${ROOM}/Bob`);
        const kept = [
          await bob.waitFor("history one after the restart", bodyIs("one")),
          await bob.waitFor("history two after the restart", bodyIs("two")),
          await bob.waitFor("history 'hi alice' after the restart", bodyIs("hi alice")),
        ];
        assert.deepEqual(historyBodies(kept), ["one", "two", "hi alice"]);
        await bob.waitFor("the subject after the restart", isSubject);
        await alice.send(xml("message", { to: ROOM, type: "groupchat" }, xml("body", {}, "three")));
        const three = await bob.waitFor("alice's message after the restart", bodyIs("three"));
        assert.equal(three.attrs.from, `${ROOM}/Alice`);

        // The room's archive (XEP-0313) lives in the MUC process's XDB and spans the restart.
        const fin = await bob.request(xml(
          "iq",
          { type: "set", to: ROOM, id: "mam" },
          xml("query", { xmlns: "urn:xmpp:mam:2", queryid: "q1" }),
        ));
        assert.ok(fin.getChild("fin", "urn:xmpp:mam:2"), fin.toString());
        const archived: string[] = [];
        for (let i = 0; i < 4; i++) {
          const result = await bob.waitFor(
            "an archived message",
            (s) => s.getChild("result", "urn:xmpp:mam:2")?.attrs.queryid === "q1",
          );
          const forwarded = result.getChild("result")!.getChild("forwarded")!;
          archived.push(forwarded.getChild("message")!.getChildText("body", NS_CLIENT) ?? "");
        }
        assert.deepEqual(archived, ["one", "two", "hi alice", "three"]);

        // slixmpp's xep_0045 enters the restarted room with history and chats with Alice.
        await register(interop, "carol", PASSWORD);
        const running = runSlixmpp(interop, "muc.py", {
          name: "carol",
          password: PASSWORD,
          args: [
            "--no-channel-binding",
            ...["--room", ROOM, "--nick", "Carol", "--peer-nick", "Alice"],
            ...["--history", "three"],
            ...["--send", "hello from slixmpp", "--expect", "hello back"],
          ],
        });
        await alice.waitFor(
          "slixmpp's message",
          bodyIs("hello from slixmpp"),
          SLIXMPP_TIMEOUT_S * 1000,
        );
        await alice.send(
          xml("message", { to: ROOM, type: "groupchat" }, xml("body", {}, "hello back")),
        );
        const lines = (await running).passed();
        assert.ok(lines.includes(`received ${ROOM}/Alice hello back`), lines.join("\n"));
      } catch (error) {
        console.error(`server:\n${server.output}\nmuc:\n${muc.output}`);
        throw error;
      } finally {
        for (const client of clients) await client.stop();
        await muc.stop("SIGTERM");
        await server.stop("SIGTERM");
      }
      try {
        // The room lives in the MUC process's XDB, not in the server's.
        const kv = denoAdapters().kv;
        const mucStore = new XdbStore(await kv.open(`${dir}/muc.kv`));
        assert.ok(await mucStore.get(ROOM, NS_MUC_ROOM), "the room is stored by the MUC process");
        await mucStore.close();
        const serverStore = new XdbStore(await kv.open(`${dir}/server.kv`));
        assert.equal(await serverStore.get(ROOM, NS_MUC_ROOM), undefined);
        await serverStore.close();
      } finally {
        await Deno.remove(dir, { recursive: true }).catch(() => {});
      }
    },
  ),
);
