/**
 * Test support for c2s: a router with an xdb section (memory KV), a c2s section over the memory
 * net, and a fake session manager that answers route packets as the real one would.
 */
import { memoryAdapters } from "../../adapters/memory/mod.ts";
import type { Adapters } from "../../adapters/types.ts";
import { Received, testCertificates } from "../../adapters/net_conformance.ts";
import { createAccount } from "../../accounts/store.ts";
import { hmac, saltedPassword, scramKeys, xor } from "../../accounts/credentials.ts";
import type { XdbClient } from "../../server/module_api.ts";
import { Section } from "../../server/section.ts";
import { Router } from "../../tree/router.ts";
import { Element, xml } from "../../xml/element.ts";
import { parseFragment } from "../../xml/stream_parser.ts";
import { kvModule } from "../xdb/kv.ts";
import { c2sModule } from "./mod.ts";

export const DOMAIN = "localhost";

export interface C2sWorldOptions {
  /** Real adapters for socket tests; the memory ones (and their clock) by default. */
  adapters?: Adapters;
  /** Where certificate paths resolve (default `/etc/jabberd`, holding tls.pem and tls.key). */
  configDir?: string;
}

export async function c2sWorld(config: Element, options: C2sWorldOptions = {}) {
  const certs = testCertificates();
  const memory = memoryAdapters({
    files: {
      "/etc/jabberd/tls.pem": certs.localhost.cert,
      "/etc/jabberd/tls.key": certs.localhost.key,
    },
  });
  const router = new Router({ fallbackLog: () => {} });
  const base = {
    router,
    adapters: options.adapters ?? memory.adapters,
    configDir: options.configDir ?? "/etc/jabberd",
  };
  const xdbSection = new Section({ id: "xdb", kind: "xdb", ...base });
  router.tree.insert("xdb", DOMAIN, "xdb");
  await xdbSection.load(kvModule, xml("kv", {}, ":memory:"));
  /** Route packets the fake sm received. */
  const routes: Element[] = [];
  let xdb: XdbClient | undefined;
  /** Open sessions of the fake sm: full JID → the c2s route address serving it. */
  const sessions = new Map<string, string>();
  const sm = new Section({ id: "sm", kind: "service", ...base });
  router.tree.insert("route", DOMAIN, "sm");
  await sm.load({
    element: "fake-sm",
    sections: ["service"],
    register(api) {
      xdb = api.xdb;
      api.handle("deliver", (packet) => {
        if (packet.kind !== "route") return "pass";
        const route = packet.element;
        routes.push(route);
        const { to, from, type } = route.attrs;
        if (type === "session") {
          // A resource named "taken" gets another one, as the sm settles conflicts.
          const full = to.endsWith("/taken") ? to.replace(/\/taken$/, "/other") : to;
          if (to.endsWith("/refused")) {
            api.deliver(xml("route", { type: "error", to: from, from: to }));
          } else {
            // A new login with a taken resource replaces the old session (RFC 6120 §7.7.2.2).
            const old = sessions.get(full);
            if (old !== undefined && old !== from) {
              api.deliver(
                xml(
                  "route",
                  { type: "error", to: old, from: full },
                  xml(
                    "error",
                    { type: "cancel" },
                    xml("conflict", { xmlns: "urn:ietf:params:xml:ns:xmpp-stanzas" }),
                  ),
                ),
              );
            }
            sessions.set(full, from);
            api.deliver(xml("route", { type: "session", to: from, from: full }));
          }
        } else if (type === "error") {
          if (sessions.get(to) === from) sessions.delete(to);
        } else {
          // Echo the stanza back to the client, as if delivered to itself.
          const stanza = route.elements[0].clone();
          api.deliver(xml("route", { to: from, from: to }, stanza));
        }
        return "done";
      });
    },
  }, xml("fake-sm"));
  const c2s = new Section({ id: "c2s", kind: "service", ...base });
  await c2s.load(c2sModule, config);
  const listening = c2s.addresses();
  const port = listening[0].port;
  const stop = async () => {
    await c2s.stop();
    await sm.stop();
    await xdbSection.stop();
  };
  return { memory, router, routes, xdb: xdb!, c2s, port, listening, stop, certs };
}

/** A raw client over the memory net. */
export async function rawClient(
  world: Awaited<ReturnType<typeof c2sWorld>>,
  hostname = "127.0.0.1",
  from?: string,
) {
  const conn = await world.memory.net.connect({ hostname, port: world.port, from });
  let received = new Received(conn);
  let mark = 0;
  const client = {
    conn,
    get text() {
      return received.text;
    },
    send(text: string) {
      conn.write(text);
    },
    /** Waits for `pattern` in what arrived since the last `next`/`restart`, returns that part. */
    async next(pattern: RegExp): Promise<string> {
      const text = await received.wait((t) => pattern.test(t.slice(mark)));
      const part = text.slice(mark);
      const m = pattern.exec(part)!;
      mark += m.index + m[0].length;
      return part.slice(0, m.index + m[0].length);
    },
    open(to = DOMAIN) {
      conn.write(
        `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${to}' version='1.0'>`,
      );
    },
    async starttls() {
      client.open();
      await client.next(/<\/stream:features>/);
      conn.write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
      await client.next(/<proceed[^>]*\/>/);
      await conn.startTlsClient({ serverName: DOMAIN, caCerts: [world.certs.ca] });
      received = new Received(conn);
      mark = 0;
    },
    closed: () => received.closed,
  };
  return client;
}

export async function addUser(xdb: XdbClient, user: string, password: string) {
  await createAccount(xdb, `${user}@${DOMAIN}`, password, { iterations: 4096 });
}

/** What scramLogin needs of a client: the memory one above, or a real socket's. */
export interface TextClient {
  send(text: string): void;
  /** Waits for `pattern` in what arrived since the last match; returns the text up to it. */
  next(pattern: RegExp): Promise<string>;
}

/** Runs a SCRAM exchange as a client; returns the server's final answer. */
export async function scramLogin(
  client: TextClient,
  mechanism: string,
  user: string,
  password: string,
  cbData?: Uint8Array,
): Promise<string> {
  const hash = mechanism.startsWith("SCRAM-SHA-256") ? "SHA-256" : "SHA-1";
  const gs2 = mechanism.endsWith("-PLUS") ? "p=tls-server-end-point,," : "n,,";
  const cnonce = crypto.getRandomValues(new Uint8Array(12)).toBase64();
  const first = `n=${user},r=${cnonce}`;
  const enc = new TextEncoder();
  client.send(
    `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='${mechanism}'>${
      enc.encode(gs2 + first).toBase64()
    }</auth>`,
  );
  const answer = await client.next(/<\/challenge>|<\/failure>|<failure[^>]*\/>/);
  if (!answer.includes("challenge")) return answer;
  const challenge = parseFragment(answer.slice(answer.indexOf("<challenge"))).text();
  const serverFirst = new TextDecoder().decode(Uint8Array.fromBase64(challenge));
  const attrs = Object.fromEntries(serverFirst.split(",").map((p) => [p[0], p.slice(2)]));
  const gs2Bytes = enc.encode(gs2);
  const c = new Uint8Array(gs2Bytes.length + (cbData?.length ?? 0));
  c.set(gs2Bytes);
  if (cbData) c.set(cbData, gs2Bytes.length);
  const finalBare = `c=${c.toBase64()},r=${attrs.r}`;
  const salted = await saltedPassword(
    hash,
    password,
    Uint8Array.fromBase64(attrs.s),
    Number(attrs.i),
  );
  const { clientKey, storedKey } = await scramKeys(hash, salted);
  const authMessage = `${first},${serverFirst},${finalBare}`;
  const proof = xor(clientKey, await hmac(hash, storedKey, authMessage)).toBase64();
  client.send(
    `<response xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>${
      enc.encode(`${finalBare},p=${proof}`).toBase64()
    }</response>`,
  );
  return await client.next(/<\/success>|<success[^>]*\/>|<\/failure>/);
}

export const CONFIG = () =>
  xml(
    "c2s",
    { xmlns: "jabberd:config:c2s" },
    xml("domain", {}, DOMAIN),
    xml("listen", { port: "0", address: "127.0.0.1" }),
    xml("certificate", { host: DOMAIN, cert: "tls.pem", key: "tls.key" }),
    xml("register", { from: "127.0.0.0/8", rate: "2", per: "10m" }),
  );

/** Lets the memory net, the router and async handlers run until nothing is left to do. */
export async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setTimeout(resolve, 0));
}

/** A client over the memory net that did STARTTLS, SCRAM-SHA-256 and bound `resource`. */
export async function boundClient(
  world: Awaited<ReturnType<typeof c2sWorld>>,
  user: string,
  password: string,
  resource: string,
) {
  const client = await rawClient(world);
  await client.starttls();
  client.open();
  await client.next(/<\/stream:features>/);
  const answer = await scramLogin(client, "SCRAM-SHA-256", user, password);
  if (!answer.includes("<success")) throw new Error(`Login failed: ${answer}`);
  client.open();
  await client.next(/<\/stream:features>/);
  client.send(
    `<iq type='set' id='bind'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>` +
      `<resource>${resource}</resource></bind></iq>`,
  );
  const bind = await client.next(/<\/iq>/);
  if (!bind.includes("<jid>")) throw new Error(`Bind failed: ${bind}`);
  return client;
}
