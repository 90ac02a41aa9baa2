/**
 * Interop: a person's terminal client, Profanity (Debian `profanity`, libstrophe underneath),
 * driven through tmux against our server (issue 3, "Done when": register, add a contact and
 * chat), with an xmpp.js user on the other side. Profanity writes its config and logs under a
 * temporary HOME and verifies the server certificate against the test CA (`SSL_CERT_FILE`).
 */
import assert from "node:assert/strict";
import { CA_FILE, startServer } from "./harness.ts";
import { needs, profanity } from "./peers.ts";
import { terminalEnv, Tmux, trimmed } from "./tmux.ts";
import { connect, type JsClient, register, xml } from "./xmpp_js.ts";
import { NS_CLIENT, NS_ROSTER } from "../../src/util/ns.ts";

const peer = await profanity();

const PASSWORD = "terminal secret";

Deno.test(
  needs(
    peer,
    "Profanity registers in-band, logs in, adds an xmpp.js contact and chats with it",
    async () => {
      const server = await startServer();
      const home = await Deno.makeTempDir({ prefix: "jabberd-profanity-" });
      const env = terminalEnv(home, CA_FILE);
      const clients: JsClient[] = [];
      let tmux = new Tmux(home);
      const me = "proffy@localhost";
      const failure = async (error: unknown) => {
        const screen = await tmux.screen();
        const log = await Deno.readTextFile(
          `${home}/.local/share/profanity/logs/profanity.log`,
        ).catch(() => "(no log)");
        const tail = log.split("\n").filter((l) => /SENT|RECV/.test(l)).slice(-15).join("\n");
        return new Error(
          `${(error as Error).message}\n--- screen:\n${trimmed(screen)}\n--- profanity log:\n` +
            `${tail}\n--- server log:\n${server.logs.slice(-15).join("\n")}`,
        );
      };
      try {
        // Register (XEP-0077) from a first Profanity: it asks for the password twice.
        await tmux.start(["profanity"], env);
        await tmux.waitFor("the welcome text", /\/register/);
        await tmux.line(`/register proffy localhost port ${server.port} tls force`);
        await tmux.waitFor("the password prompt", /Enter password:/);
        await tmux.line(PASSWORD);
        await tmux.waitFor("the confirmation prompt", /Confirm password:/);
        await tmux.line(PASSWORD);
        await tmux.waitFor("a successful registration", /Registration successful/);
        await tmux.line("/quit");
        assert.ok(await tmux.exited(), "Profanity quits on /quit");
        await tmux.kill();

        // The other side: an xmpp.js user, online with its roster.
        await register(server, "jspeer", PASSWORD);
        const js = await connect(server, {
          username: "jspeer",
          password: PASSWORD,
          resource: "js",
        });
        clients.push(js);

        // Log in from a fresh Profanity (a registering one keeps its raw connection mode).
        tmux = new Tmux(home);
        await tmux.start(["profanity"], env);
        await tmux.waitFor("the start screen", /Profanity|profanity/);
        await tmux.line(`/connect ${me} server 127.0.0.1 port ${server.port} tls force`);
        await tmux.waitFor("the password prompt", /Enter password:/);
        await tmux.line(PASSWORD);
        await tmux.waitFor("a successful login", /logged in successfully/);

        // Add the contact and ask for its presence; xmpp.js approves and asks back.
        await tmux.line(`/roster add ${js.bare} Peer`);
        await tmux.line(`/sub request ${js.bare}`);
        await js.waitFor(
          "Profanity's subscribe",
          (p) => p.is("presence") && p.attrs.type === "subscribe" && p.attrs.from === me,
        );
        await js.send(xml("presence", { to: me, type: "subscribed" }));
        await js.send(xml("presence", { to: me, type: "subscribe" }));
        await tmux.waitFor("the authorization request", /authori[sz]ation request/i);
        await tmux.line(`/sub allow ${js.bare}`);
        await js.waitFor(
          "Profanity's subscribed",
          (p) => p.is("presence") && p.attrs.type === "subscribed" && p.attrs.from === me,
        );

        // Chat: Profanity writes, xmpp.js answers to the full JID it wrote from.
        await tmux.line(`/msg ${js.bare} hello from profanity`);
        const message = await js.waitFor(
          "Profanity's message",
          (m) => m.is("message") && m.getChildText("body", NS_CLIENT) === "hello from profanity",
        );
        assert.match(message.attrs.from ?? "", /^proffy@localhost\/.+/);
        await js.send(
          xml(
            "message",
            { to: message.attrs.from, type: "chat", id: "reply1" },
            xml("body", {}, "hello from xmpp.js"),
          ),
        );
        // The chat window shows both lines, the reply under the roster name given above.
        const chat = await tmux.waitFor("the reply", /Peer\/js: hello from xmpp\.js/);
        assert.match(chat, /me: hello from profanity/);

        const roster = await js.request(
          xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })),
        );
        const item = roster.getChild("query", NS_ROSTER)?.getChildren("item", NS_ROSTER)
          .find((i) => i.attrs.jid === me);
        assert.equal(item?.attrs.subscription, "both", roster.toString());

        await tmux.line("/quit");
        assert.ok(await tmux.exited(), "Profanity quits on /quit");
      } catch (error) {
        throw await failure(error);
      } finally {
        for (const c of clients) await c.stop();
        await tmux.kill();
        await server.stop();
        await Deno.remove(home, { recursive: true }).catch(() => {});
      }
    },
  ),
);
