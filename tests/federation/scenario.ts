/**
 * What every federated pair must do (RFC 6121 across domains, issue 10): a user on each side
 * subscribes to the other both ways, each sees the other's presence, messages go both ways, and
 * a message to a user who is offline is stored by their server and delivered at their next login;
 * against our server also bounces, errors, a peer that drops and our own restart
 * (`federationSteps`). Driven with real clients (xmpp.js) logged in to each server's c2s.
 */
import assert from "node:assert/strict";
import type { InteropServer } from "../interop/harness.ts";
import type { Peer } from "./harness.ts";
import { connect, type JsClient, register, xml, type XmlElement } from "../interop/xmpp_js.ts";
import { NS_CLIENT, NS_ROSTER } from "../../src/util/ns.ts";

const PASSWORD = "federation secret";

const bare = (jid: string | undefined) => (jid ?? "").split("/")[0];

/** A presence of `type` (undefined: available) from `from`'s bare JID. */
function presenceFrom(from: string, type?: string) {
  return (s: XmlElement) =>
    s.is("presence") && bare(s.attrs.from) === from && s.attrs.type === type;
}

/** A chat message from `from` with `body`. */
function messageFrom(from: string, body: string) {
  return (s: XmlElement) =>
    s.is("message") && bare(s.attrs.from) === from && s.getChildText("body", NS_CLIENT) === body;
}

/** Sends a chat message. */
function chat(client: JsClient, to: string, body: string): Promise<void> {
  return client.send(xml("message", { to, type: "chat" }, xml("body", {}, body)));
}

/** Registers `user` in-band and logs in as them. */
export async function newUser(server: InteropServer, user: string): Promise<JsClient> {
  await register(server, user, PASSWORD);
  return login(server, user);
}

function login(server: InteropServer, user: string): Promise<JsClient> {
  return connect(server, { username: user, password: PASSWORD, resource: "test" });
}

/**
 * `a` (on one server) and `b` (on the other) subscribe to each other, `a` first, then each sees
 * the other online.
 */
export async function subscribeBothWays(a: JsClient, b: JsClient): Promise<void> {
  await a.send(xml("presence", { to: b.bare, type: "subscribe" }));
  await b.waitFor(`a subscription request from ${a.bare}`, presenceFrom(a.bare, "subscribe"));
  await b.send(xml("presence", { to: a.bare, type: "subscribed" }));
  await a.waitFor(`${b.bare} approving`, presenceFrom(b.bare, "subscribed"));
  await a.waitFor(`${b.bare}'s presence after approval`, presenceFrom(b.bare));
  await b.send(xml("presence", { to: a.bare, type: "subscribe" }));
  await a.waitFor(`a subscription request from ${b.bare}`, presenceFrom(b.bare, "subscribe"));
  await a.send(xml("presence", { to: b.bare, type: "subscribed" }));
  await b.waitFor(`${a.bare} approving`, presenceFrom(a.bare, "subscribed"));
  await b.waitFor(`${a.bare}'s presence after approval`, presenceFrom(a.bare));
  for (const [client, other] of [[a, b], [b, a]]) {
    const roster = await client.request(
      xml("iq", { type: "get" }, xml("query", { xmlns: "jabber:iq:roster" })),
    );
    const item = roster.getChild("query", NS_ROSTER)?.getChildren("item", NS_ROSTER).find((i) =>
      i.attrs.jid === other.bare
    );
    assert.equal(item?.attrs.subscription, "both", `${client.bare}'s roster: ${roster}`);
  }
}

/** Messages both ways, each arriving with its sender's full JID. */
export async function messagesBothWays(a: JsClient, b: JsClient): Promise<void> {
  await chat(a, b.bare, `hello ${b.bare}`);
  const got = await b.waitFor("the message", messageFrom(a.bare, `hello ${b.bare}`));
  assert.equal(got.attrs.from, a.jid);
  await chat(b, a.bare, `hello ${a.bare}`);
  await a.waitFor("the reply", messageFrom(b.bare, `hello ${a.bare}`));
}

/**
 * Sends a ping to `to` (an offline user's bare JID, which their server answers) and waits for
 * the answer, whatever it is: a server handles what one sender sends one address in order
 * (src/tree/ROUTING.md R23, R34), so the message sent before is stored by then.
 */
async function stored(from: JsClient, to: string): Promise<void> {
  await from.exchange(xml("iq", { type: "get", to }, xml("ping", { xmlns: "urn:xmpp:ping" })));
}

/**
 * `b` logs out and sees `a` go offline; `a` writes; `b` logs in again (on `bServer`) and gets
 * the message, stamped with a delay (XEP-0203). Returns the new `b`.
 */
export async function offlineMessage(
  a: JsClient,
  b: JsClient,
  bServer: InteropServer,
): Promise<JsClient> {
  const user = b.bare.split("@")[0];
  await b.stop();
  await a.waitFor(`${b.bare} going offline`, presenceFrom(b.bare, "unavailable"));
  await chat(a, b.bare, `while you were away, ${user}`);
  await stored(a, b.bare);
  const again = await login(bServer, user);
  const message = await again.waitFor(
    "the message stored while offline",
    messageFrom(a.bare, `while you were away, ${user}`),
  );
  assert.ok(message.getChild("delay", "urn:xmpp:delay"), `no delay stamp on ${message}`);
  return again;
}

/** `server` seen as serving `domain` (our second domain: same listener, other JIDs). */
function onDomain(server: InteropServer, domain: string): InteropServer {
  return Object.create(server, { domain: { value: domain } });
}

/** Waits (bounded) until `lines()` has a line matching `pattern`; fails showing the last ones. */
async function logged(
  what: string,
  lines: () => string[],
  pattern: RegExp,
  ms = 10_000,
): Promise<void> {
  const end = Date.now() + ms;
  while (!lines().some((line) => pattern.test(line))) {
    if (Date.now() > end) {
      throw new Error(
        `No log line says ${what} (${pattern}); last lines:\n${lines().slice(-30).join("\n")}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * The federation steps of issue 10 between our server (`here`, with its second domain) and a
 * peer (`there`), each a `t.step`; `how` is the authentication both directions must have used,
 * as our log names it. `track` gets every client logged in (the caller stops them).
 */
export async function federationSteps(
  t: Deno.TestContext,
  here: InteropServer,
  there: Peer,
  track: (client: JsClient) => JsClient,
  how: "dialback" | "SASL EXTERNAL",
): Promise<void> {
  // Each step builds on the one before: the first failure ends the test (with the logs).
  const step = async (name: string, fn: () => Promise<void>) => {
    if (!await t.step(name, fn)) throw new Error(`The step "${name}" failed`);
  };
  let alice = track(await newUser(here, "alice"));
  let bob = track(await newUser(there, "bob"));

  await step("a user here and a user there subscribe to each other both ways", async () => {
    await subscribeBothWays(alice, bob);
  });

  await step(`both directions were authenticated by ${how}`, async () => {
    const lines = () => here.logs;
    const peer = there.domain.replaceAll(".", "\\.");
    await logged(
      `${there.name} authenticated by ${how}`,
      lines,
      new RegExp(`${peer} authenticated by ${how}`),
    );
    await logged(
      `us authenticated to ${there.name} by ${how}`,
      lines,
      new RegExp(`jabberd\\.test authenticated to ${peer} by ${how}`),
    );
  });

  await step("messages go both ways", async () => {
    await messagesBothWays(alice, bob);
  });

  await step("a message to a user offline is stored and delivered, both ways", async () => {
    bob = track(await offlineMessage(alice, bob, there));
    await alice.waitFor("bob back online", presenceFrom(bob.bare));
    alice = track(await offlineMessage(bob, alice, here));
  });

  await step("our second domain federates too", async () => {
    const carol = track(await newUser(onDomain(here, "jabberd2.test"), "carol"));
    await messagesBothWays(carol, bob);
  });

  await step("a message to a domain that does not exist bounces", async () => {
    await chat(alice, "nobody@nowhere.invalid", "anyone?");
    const error = await alice.waitFor(
      "the bounce",
      (s) =>
        s.is("message") && s.attrs.type === "error" && s.attrs.from === "nobody@nowhere.invalid",
    );
    const condition = error.getChild("error", NS_CLIENT)?.getChildElements()[0];
    assert.equal(condition?.name, "remote-server-not-found", `${error}`);
  });

  await step("an error comes back across the federation", async () => {
    // RFC 6121 §8.5.1: an iq to an account that does not exist gets service-unavailable.
    const to = `nobody@${here.domain}`;
    await bob.send(
      xml(
        "iq",
        { type: "get", to, id: "federated-error" },
        xml("ping", { xmlns: "urn:xmpp:ping" }),
      ),
    );
    const reply = await bob.waitFor(
      "the error",
      (s) => s.is("iq") && s.attrs.id === "federated-error",
    );
    assert.equal(reply.attrs.type, "error", `${reply}`);
    assert.equal(reply.attrs.from, to, `${reply}`);
    const condition = reply.getChild("error", NS_CLIENT)?.getChildElements()[0];
    assert.equal(condition?.name, "service-unavailable", `${reply}`);
  });

  await step(`a peer that drops mid-stream (${there.name} killed) is reconnected`, async () => {
    await there.crash();
    await there.restart();
    bob = track(await login(there, "bob"));
    await alice.waitFor(`bob's presence after ${there.name} came back`, presenceFrom(bob.bare));
    await messagesBothWays(alice, bob);
  });

  await step("our server restarted in the middle loses nothing acknowledged", async () => {
    await alice.stop();
    await bob.waitFor("alice going offline", presenceFrom(alice.bare, "unavailable"));
    await chat(bob, alice.bare, "stored before the restart");
    await stored(bob, alice.bare);
    await here.restart();
    alice = track(await login(here, "alice"));
    await alice.waitFor("the message", messageFrom(bob.bare, "stored before the restart"));
    await bob.waitFor("alice back", presenceFrom(alice.bare));
    await messagesBothWays(alice, bob);
  });
}
