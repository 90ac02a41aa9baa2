/**
 * Interop: slixmpp 1.8 (Debian `python3-slixmpp`, SCRAM-SHA-256) against our server over
 * STARTTLS, through the scripts in `tests/interop/slixmpp/`: registration (XEP-0077), login,
 * the subscription handshake and chat with an xmpp.js user, and a few server features. Each
 * script has its own timeout and exits with a status (0 passed, 1 a check failed, 2 timeout,
 * 3 no session).
 */
import assert from "node:assert/strict";
import { type InteropServer, startServer } from "./harness.ts";
import { needs, slixmpp } from "./peers.ts";
import { runSlixmpp, type SlixmppRun } from "./slixmpp_runner.ts";
import { connect, type JsClient, register, xml } from "./xmpp_js.ts";
import { NS_CLIENT, NS_ROSTER } from "../../src/util/ns.ts";

const PASSWORD = "slixmpp and deno";

/**
 * Run the scripts that test something else than login without channel binding: slixmpp 1.8's
 * default (-PLUS with tls-unique, then gs2 flag "y") is tested on its own by the first test.
 */
const NO_CB = "--no-channel-binding";

const peer = await slixmpp();
let shared: InteropServer | undefined;

async function server(): Promise<InteropServer> {
  return shared ??= await startServer();
}

/** Runs a script as `name@localhost` on the shared server. */
async function script(file: string, name: string, ...args: string[]): Promise<SlixmppRun> {
  return runSlixmpp(await server(), file, { name, password: PASSWORD, args });
}

Deno.test(
  needs(
    peer,
    "slixmpp registers in-band, then logs in over STARTTLS with SCRAM-SHA-256",
    async () => {
      const registered = (await script("login.py", "slix", "--register")).passed();
      assert.ok(registered.includes("registered slix@localhost"), registered.join("\n"));
      const lines = (await script("login.py", "slix", "--mechanism", "SCRAM-SHA-256")).passed();
      assert.ok(lines.includes("mechanism SCRAM-SHA-256"), lines.join("\n"));
      assert.ok(lines.some((line) => /^tls TLSv1\.[23]$/.test(line)), lines.join("\n"));
      assert.ok(lines.includes("jid slix@localhost/slixmpp"), lines.join("\n"));
    },
  ),
);

Deno.test(
  needs(
    peer,
    "slixmpp logs in with SCRAM-SHA-256 when it does not offer channel binding",
    async () => {
      (await script("login.py", "slixncb", "--register", NO_CB)).passed();
      const lines = (
        await script("login.py", "slixncb", "--mechanism", "SCRAM-SHA-256", NO_CB)
      ).passed();
      assert.ok(lines.includes("mechanism SCRAM-SHA-256"), lines.join("\n"));
    },
  ),
);

Deno.test(
  needs(peer, "slixmpp is refused with a wrong password and an existing account name", async () => {
    (await script("login.py", "slixdup", "--register", NO_CB)).passed();
    const wrong = await script("login.py", "slixdup", "--password", "wrong", NO_CB);
    assert.equal(wrong.code, 3, `${wrong.stdout}\n${wrong.stderr}`);
    const again = await script("login.py", "slixdup", "--register", NO_CB);
    assert.equal(again.code, 3, `${again.stdout}\n${again.stderr}`);
    assert.match(again.stdout, /register-error conflict/);
  }),
);

Deno.test(
  needs(peer, "slixmpp and xmpp.js go through the subscription handshake both ways", async () => {
    const clients: JsClient[] = [];
    try {
      const s = await server();
      (await script("login.py", "slixroster", "--register", NO_CB)).passed();
      await register(s, "jsroster", PASSWORD);
      const js = await connect(s, { username: "jsroster", password: PASSWORD, resource: "js" });
      clients.push(js);
      const sli = "slixroster@localhost";
      const running = script("roster.py", "slixroster", "--peer", js.bare, NO_CB);
      // The xmpp.js side approves slixmpp's request and asks back.
      await js.waitFor(
        "slixmpp's subscribe",
        (p) => p.is("presence") && p.attrs.type === "subscribe" && p.attrs.from === sli,
      );
      await js.send(xml("presence", { to: sli, type: "subscribed" }));
      await js.send(xml("presence", { to: sli, type: "subscribe" }));
      await js.waitFor(
        "slixmpp's subscribed",
        (p) => p.is("presence") && p.attrs.type === "subscribed" && p.attrs.from === sli,
      );
      const lines = (await running).passed();
      assert.ok(lines.includes("subscription both"), lines.join("\n"));
      const roster = await js.request(
        xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })),
      );
      const item = roster.getChild("query", NS_ROSTER)?.getChildren("item", NS_ROSTER)
        .find((i) => i.attrs.jid === sli);
      assert.equal(item?.attrs.subscription, "both", roster.toString());
    } finally {
      for (const c of clients) await c.stop();
    }
  }),
);

Deno.test(needs(peer, "slixmpp and xmpp.js chat both ways", async () => {
  const clients: JsClient[] = [];
  try {
    const s = await server();
    (await script("login.py", "slixchat", "--register", NO_CB)).passed();
    await register(s, "jschat", PASSWORD);
    const js = await connect(s, { username: "jschat", password: PASSWORD, resource: "js" });
    clients.push(js);
    const running = script(
      "chat.py",
      "slixchat",
      "--peer",
      js.bare,
      "--send",
      "hello from slixmpp",
      "--expect",
      "hello from xmpp.js",
      NO_CB,
    );
    const message = await js.waitFor(
      "slixmpp's message",
      (m) => m.is("message") && m.getChildText("body", NS_CLIENT) === "hello from slixmpp",
    );
    assert.equal(message.attrs.from, "slixchat@localhost/slixmpp");
    assert.equal(message.attrs.to, js.bare); // as sent: RFC 6121 §8.5.2.1.1
    await js.send(
      xml(
        "message",
        { to: message.attrs.from, type: "chat" },
        xml("body", {}, "hello from xmpp.js"),
      ),
    );
    const lines = (await running).passed();
    assert.ok(
      lines.includes(`received ${js.jid} hello from xmpp.js`),
      lines.join("\n"),
    );
  } finally {
    for (const c of clients) await c.stop();
  }
}));

Deno.test(
  needs(
    peer,
    "slixmpp reads disco, version, time, ping, vCard, private XML and last activity",
    async () => {
      (await script("login.py", "slixfeat", "--register", NO_CB)).passed();
      const lines = (await script("features.py", "slixfeat", NO_CB)).passed();
      for (const prefix of ["disco", "version", "time", "ping", "vcard", "private", "last"]) {
        assert.ok(lines.some((line) => line.startsWith(`${prefix} `)), lines.join("\n"));
      }
      assert.ok(lines.includes("vcard Slix McXmpp"), lines.join("\n"));
      assert.ok(lines.includes("private dark"), lines.join("\n"));
    },
  ),
);

Deno.test("slixmpp interop server stops cleanly", async () => {
  await shared?.stop();
  shared = undefined;
});
