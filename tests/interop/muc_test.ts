/**
 * Interop of the MUC service (XEP-0045) on `conference.localhost` with real clients: an xmpp.js
 * user creates a room and talks, and slixmpp's `xep_0045` (`tests/interop/slixmpp/muc.py`)
 * joins with history, chats with it and pings itself (XEP-0410).
 */
import assert from "node:assert/strict";
import { CA_FILE, type InteropServer, startServer } from "./harness.ts";
import { needs, profanity, slixmpp } from "./peers.ts";
import { runSlixmpp, SLIXMPP_TIMEOUT_S } from "./slixmpp_runner.ts";
import { terminalEnv, Tmux, trimmed } from "./tmux.ts";
import { connect, type JsClient, register, xml } from "./xmpp_js.ts";
import { NS_CLIENT } from "../../src/util/ns.ts";

const PASSWORD = "rooms and deno";
const MUC = "http://jabber.org/protocol/muc";
const SERVICES = `<service id="muc">
    <host>conference.localhost</host>
    <muc xmlns="jabberd:config:muc"/>
  </service>`;

const peer = await slixmpp();
const terminal = await profanity();

/** An xmpp.js user `name` in a new instant room `room` as `nick`. */
async function roomWithJsUser(s: InteropServer, name: string, room: string, nick: string) {
  await register(s, name, PASSWORD);
  const js = await connect(s, { username: name, password: PASSWORD, resource: "js" });
  await js.send(xml("presence", { to: `${room}/${nick}` }, xml("x", { xmlns: MUC })));
  await js.waitFor(
    "the room's subject",
    (m) => m.is("message") && m.getChild("subject") !== undefined,
  );
  // An instant room (XEP-0045 §10.1.2).
  await js.request(xml(
    "iq",
    { type: "set", to: room },
    xml("query", { xmlns: `${MUC}#owner` }, xml("x", { xmlns: "jabber:x:data", type: "submit" })),
  ));
  return js;
}

Deno.test(
  needs(
    peer,
    "slixmpp's xep_0045 joins a room with history and chats with an xmpp.js user",
    async () => {
      const s = await startServer({ services: SERVICES });
      const clients: JsClient[] = [];
      try {
        await register(s, "slixroom", PASSWORD);
        const room = "tea@conference.localhost";
        const js = await roomWithJsUser(s, "jsroom", room, "Juliet");
        clients.push(js);
        // A message before slixmpp comes, for the history.
        await js.send(
          xml("message", { to: room, type: "groupchat" }, xml("body", {}, "before you came")),
        );
        await js.waitFor(
          "the reflected message",
          (m) => m.getChildText("body", NS_CLIENT) === "before you came",
        );
        const running = runSlixmpp(s, "muc.py", {
          name: "slixroom",
          password: PASSWORD,
          args: [
            "--no-channel-binding",
            ...["--room", room, "--nick", "Romeo", "--peer-nick", "Juliet"],
            ...["--history", "before you came"],
            ...["--send", "hello from slixmpp", "--expect", "hello from xmpp.js"],
          ],
        });
        const heard = await js.waitFor(
          "slixmpp's message",
          (m) => m.is("message") && m.getChildText("body", NS_CLIENT) === "hello from slixmpp",
          SLIXMPP_TIMEOUT_S * 1000,
        );
        assert.equal(heard.attrs.from, `${room}/Romeo`);
        assert.equal(heard.attrs.type, "groupchat");
        await js.send(
          xml("message", { to: room, type: "groupchat" }, xml("body", {}, "hello from xmpp.js")),
        );
        const lines = (await running).passed();
        assert.ok(lines.includes("occupants Juliet Romeo"), lines.join("\n"));
        assert.ok(lines.includes(`received ${room}/Juliet hello from xmpp.js`), lines.join("\n"));
        assert.ok(lines.includes("self-ping result"), lines.join("\n"));
        await js.waitFor(
          "Romeo's exit",
          (p) =>
            p.is("presence") && p.attrs.from === `${room}/Romeo` && p.attrs.type === "unavailable",
        );
      } finally {
        for (const c of clients) await c.stop();
        await s.stop();
      }
    },
  ),
);

Deno.test(
  needs(
    terminal,
    "Profanity joins a room through tmux and chats with an xmpp.js user",
    async () => {
      const s = await startServer({ services: SERVICES });
      const home = await Deno.makeTempDir({ prefix: "jabberd-profanity-muc-" });
      const env = terminalEnv(home, CA_FILE);
      const tmux = new Tmux(home);
      const clients: JsClient[] = [];
      const room = "lounge@conference.localhost";
      try {
        const js = await roomWithJsUser(s, "jslounge", room, "Juliet");
        clients.push(js);
        await register(s, "proflounge", PASSWORD);
        await tmux.start(["profanity"], env);
        await tmux.waitFor("the start screen", /Profanity|profanity/);
        await tmux.line(`/connect proflounge@localhost server 127.0.0.1 port ${s.port} tls force`);
        await tmux.waitFor("the password prompt", /Enter password:/);
        await tmux.line(PASSWORD);
        await tmux.waitFor("a successful login", /logged in successfully/);
        await tmux.line(`/join ${room} nick Mercutio`);
        const entered = await js.waitFor(
          "Profanity's presence in the room",
          (p) => p.is("presence") && p.attrs.from === `${room}/Mercutio` && !p.attrs.type,
        );
        assert.equal(
          entered.getChild("x", `${MUC}#user`)?.getChild("item", `${MUC}#user`)?.attrs.role,
          "participant",
        );
        await tmux.line("hello from profanity");
        const heard = await js.waitFor(
          "Profanity's message",
          (m) => m.is("message") && m.getChildText("body", NS_CLIENT) === "hello from profanity",
        );
        assert.equal(heard.attrs.from, `${room}/Mercutio`);
        assert.equal(heard.attrs.type, "groupchat");
        await js.send(
          xml("message", { to: room, type: "groupchat" }, xml("body", {}, "hello from xmpp.js")),
        );
        await tmux.waitFor("the reply in the room window", /Juliet: hello from xmpp\.js/);
        await tmux.line("/quit");
        assert.ok(await tmux.exited(), "Profanity quits on /quit");
        await js.waitFor(
          "Mercutio's exit",
          (p) =>
            p.is("presence") && p.attrs.from === `${room}/Mercutio` &&
            p.attrs.type === "unavailable",
        );
      } catch (error) {
        const screen = trimmed(await tmux.screen());
        throw new Error(
          `${(error as Error).message}\n--- screen:\n${screen}\n--- server log:\n` +
            s.logs.slice(-15).join("\n"),
        );
      } finally {
        for (const c of clients) await c.stop();
        await tmux.kill();
        await s.stop();
        await Deno.remove(home, { recursive: true }).catch(() => {});
      }
    },
  ),
);
