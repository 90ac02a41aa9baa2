/**
 * Issue 4 item 1 with real component libraries: `@xmpp/component` and slixmpp's ComponentXMPP
 * (the Python example in `examples/component/`) connect through `<accept>` on real sockets and
 * exchange messages and iqs with a user logged in through c2s; a wrong secret, a spoofed `from`
 * and queue expiry while the component is away are covered too.
 */
import assert from "node:assert/strict";
import { component } from "@xmpp/component";
import { denoAdapters } from "../src/adapters/deno/mod.ts";
import { testC2sSection, testServer } from "../src/server/_testing.ts";
import type { InteropServer } from "./interop/harness.ts";
import { PYTHON } from "./interop/peers.ts";
import { connect, register, WAIT_MS, xml, type XmlElement } from "./interop/xmpp_js.ts";

const EXAMPLE = new URL("../examples/component/echo_component.py", import.meta.url).pathname;

async function startWorld() {
  const dataDir = await Deno.makeTempDir({ prefix: "jabberd-component-" });
  const text = `<jabberd>
  ${testC2sSection("c2s-component-test")}
  <service id="sessions"><host>localhost</host><sm xmlns="jabberd:config:sm"/></service>
  <service id="bot.localhost">
    <host>bot.localhost</host>
    <accept><ip>127.0.0.1</ip><port>0</port><secret>s3cret</secret>
      <queue max="10" age="1s"/></accept>
  </service>
  <service id="echo.localhost">
    <host>echo.localhost</host>
    <accept><ip>127.0.0.1</ip><port>0</port><secret>py-secret</secret></accept>
  </service>
  <xdb id="xdb"><host/><kv>${dataDir}/jabberd.kv</kv></xdb>
</jabberd>`;
  const world = await testServer(text, {
    file: `${dataDir}/jabberd.xml`,
    adapters: denoAdapters(),
  });
  const c2s = world.address("c2s");
  const interop = {
    domain: "localhost",
    hostname: c2s.hostname,
    port: c2s.port,
  } as InteropServer;
  return {
    interop,
    botPort: world.address("accept", "bot.localhost").port,
    echoPort: world.address("accept", "echo.localhost").port,
    async stop() {
      await world.stop();
      await Deno.remove(dataDir, { recursive: true }).catch(() => {});
    },
  };
}

/** An @xmpp/component connected to the bot section, recording what it receives. */
async function startComponent(port: number, password = "s3cret") {
  const xmpp = component({
    service: `xmpp://127.0.0.1:${port}`,
    domain: "bot.localhost",
    password,
  });
  xmpp.reconnect.stop();
  xmpp.on("error", () => {});
  const received: XmlElement[] = [];
  xmpp.on("stanza", (stanza: XmlElement) => received.push(stanza));
  xmpp.iqCallee.get("urn:xmpp:time", "time", () => xml("time", { xmlns: "urn:xmpp:time" }));
  await xmpp.start();
  return { xmpp, received };
}

async function until<T>(what: string, find: () => T | undefined): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

Deno.test("Issue 4.1 <accept> serves real components: @xmpp/component and slixmpp ComponentXMPP", async (t) => {
  const world = await startWorld();
  try {
    await register(world.interop, "juliet", "pass-juliet-1");
    const juliet = await connect(world.interop, { username: "juliet", password: "pass-juliet-1" });
    try {
      await t.step("@xmpp/component exchanges messages and iqs with a user", async () => {
        const bot = await startComponent(world.botPort);
        await juliet.send(
          xml("message", { to: "bot.localhost", type: "chat" }, xml("body", {}, "hi")),
        );
        const message = await until(
          "the message at the component",
          () => bot.received.find((s) => s.is("message")),
        );
        assert.equal(message.attrs.from, juliet.jid);
        await bot.xmpp.send(
          xml(
            "message",
            { to: juliet.jid, from: "bot.localhost", type: "chat" },
            xml("body", {}, "hello"),
          ),
        );
        const back = await juliet.waitFor("the component's message", (s) => s.is("message"));
        assert.equal(back.getChildText("body"), "hello");
        // A user's iq to the component, answered by its iqCallee.
        const time = await juliet.request(
          xml("iq", { type: "get", to: "bot.localhost" }, xml("time", { xmlns: "urn:xmpp:time" })),
        );
        assert.equal(time.attrs.from, "bot.localhost");
        // The component's iq to the server's user domain: answered by the session manager.
        const reply = await bot.xmpp.iqCaller.request(
          xml(
            "iq",
            { type: "get", to: "localhost", from: "bot.localhost" },
            xml("ping", { xmlns: "urn:xmpp:ping" }),
          ),
          WAIT_MS,
        );
        assert.equal(reply.attrs.type, "result");
        // A spoofed from comes back as a forbidden error.
        await bot.xmpp.send(
          xml(
            "message",
            { to: juliet.jid, from: "romeo@localhost", id: "spoof" },
            xml("body", {}, "x"),
          ),
        );
        const error = await until(
          "the forbidden error",
          () => bot.received.find((s) => s.attrs.id === "spoof"),
        );
        assert.equal(error.attrs.type, "error");
        assert.ok(error.getChild("error")?.getChild("forbidden"));
        await bot.xmpp.stop();
      });

      await t.step("a wrong secret is refused with not-authorized", async () => {
        await assert.rejects(startComponent(world.botPort, "wrong"), /not-authorized|authoriz/i);
      });

      await t.step("queue expiry while the component is away bounces to the user", async () => {
        juliet.clear();
        await juliet.send(
          xml(
            "message",
            { to: "bot.localhost", id: "away", type: "chat" },
            xml("body", {}, "anyone?"),
          ),
        );
        const bounce = await juliet.waitFor("the expiry bounce", (s) => s.attrs.id === "away");
        assert.equal(bounce.attrs.type, "error");
        assert.ok(bounce.getChild("error")?.getChild("remote-server-timeout"));
      });

      await t.step(
        "slixmpp ComponentXMPP (examples/component) echoes a user's message and answers version",
        async () => {
          const child = new Deno.Command(PYTHON, {
            args: [EXAMPLE, "echo.localhost", "py-secret", "127.0.0.1", String(world.echoPort)],
            stdout: "piped",
            stderr: "null",
          }).spawn();
          try {
            const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
            const first = await Promise.race([
              reader.read(),
              new Promise<never>((_, reject) =>
                setTimeout(() => reject(new Error("slixmpp did not start")), WAIT_MS)
              ),
            ]);
            assert.match(first.value ?? "", /ready/);
            juliet.clear();
            await juliet.send(
              xml("message", { to: "echo.localhost", type: "chat" }, xml("body", {}, "ping")),
            );
            const echo = await juliet.waitFor("the echo", (s) => s.is("message"));
            assert.equal(echo.getChildText("body"), "echo: ping");
            const version = await juliet.request(
              xml(
                "iq",
                { type: "get", to: "echo.localhost" },
                xml("query", { xmlns: "jabber:iq:version" }),
              ),
            );
            assert.equal(version.getChild("query")?.getChildText("name"), "echo component");
            reader.releaseLock();
          } finally {
            child.kill("SIGTERM");
            await child.status;
            await child.stdout.cancel().catch(() => {});
          }
        },
      );
    } finally {
      await juliet.stop();
    }
  } finally {
    await world.stop();
  }
});
