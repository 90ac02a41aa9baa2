/**
 * Test support for c2s, on the one test world (`testServer` in `src/server/_testing.ts`): the
 * c2s section of `testC2sSection`, either with a fake session manager that echoes what clients
 * send (the c2s unit tests) or with the real one (whole-server tests), and raw clients that
 * negotiate STARTTLS, SCRAM (RFC 5802) and resource binding (RFC 6120 §7) by hand.
 */
import { createAccount } from "../../accounts/store.ts";
import { hmac, saltedPassword, scramKeys, xor } from "../../accounts/credentials.ts";
import type { ConnectOptions } from "../../adapters/types.ts";
import { Received } from "../../adapters/net_conformance.ts";
import {
  testC2sSection,
  type TestServer,
  testServer,
  type TestServerOptions,
} from "../../server/_testing.ts";
import type { ModuleDefinition } from "../../server/module_api.ts";
import type { Section } from "../../server/section.ts";
import { type Element, xml } from "../../xml/element.ts";
import { parseFragment } from "../../xml/stream_parser.ts";

export const DOMAIN = "localhost";

/**
 * `testC2sSection("c2s", extra)`. A `<register>` in `extra` replaces the default one (the
 * config takes one); `certificate: false` leaves the certificate out, so c2s makes its own.
 */
export function c2sSection(extra = "", { certificate = true } = {}): string {
  let section = testC2sSection("c2s", extra);
  if (extra.includes("<register")) section = section.replace(/<register [^>]*\/>/, "");
  if (!certificate) section = section.replace(/<certificate [^>]*\/>/, "");
  return section;
}

/** A world of `c2sWorld`: the routes its fake session manager received. */
export type C2sWorld = TestServer & { readonly routes: Element[] };

/**
 * c2s (`c2sSection(extra)`), a fake session manager and XDB in memory: for tests of c2s alone.
 * The fake sm opens sessions (a resource named `taken` becomes `other`, one named `refused` is
 * refused, a second login with a resource ends the first with conflict) and echoes every
 * stanza back to its sender.
 */
export async function c2sWorld(
  extra = "",
  options: TestServerOptions = {},
): Promise<C2sWorld> {
  const routes: Element[] = [];
  const world = await testServer(
    `<jabberd>
      ${c2sSection(extra)}
      <service id="sm"><host>${DOMAIN}</host><fake-sm xmlns="test:fake-sm"/></service>
      <xdb id="xdb"><host/><kv>:memory:</kv></xdb>
    </jabberd>`,
    { ...options, modules: [fakeSm(routes), ...(options.modules ?? [])] },
  );
  return Object.assign(world, { routes });
}

/** The session manager of `c2sWorld`, recording the route packets it receives in `routes`. */
function fakeSm(routes: Element[]): ModuleDefinition {
  return {
    element: "test:fake-sm",
    sections: ["service"],
    register(api) {
      /** Open sessions: full JID → the c2s route address serving it. */
      const sessions = new Map<string, string>();
      api.handle("deliver", (packet) => {
        if (packet.kind !== "route") return "pass";
        const route = packet.element;
        routes.push(route);
        const { to, from, type } = route.attrs;
        if (type === "session") {
          const full = to.endsWith("/taken") ? to.replace(/\/taken$/, "/other") : to;
          if (to.endsWith("/refused")) {
            api.deliver(xml("route", { type: "error", to: from, from: to }));
            return "done";
          }
          // A new login with a taken resource replaces the old session (RFC 6120 §7.7.2.2).
          const old = sessions.get(full);
          if (old !== undefined && old !== from) {
            const conflict = xml("conflict", { xmlns: "urn:ietf:params:xml:ns:xmpp-stanzas" });
            api.deliver(
              xml(
                "route",
                { type: "error", to: old, from: full },
                xml("error", { type: "cancel" }, conflict),
              ),
            );
          }
          sessions.set(full, from);
          api.deliver(xml("route", { type: "session", to: from, from: full }));
        } else if (type === "error") {
          if (sessions.get(to) === from) sessions.delete(to);
        } else {
          api.deliver(xml("route", { to: from, from: to }, route.elements[0].clone()));
        }
        return "done";
      });
    },
  };
}

/**
 * A whole server: c2s (`c2sSection(c2s, { certificate })`), the real session manager with
 * `sm` settings and XDB on `kv` (a memory file by default, kept across `restart()`).
 */
export function c2sServerConfig(
  c2s = "",
  { sm = "", certificate = true, kv = "data/jabberd.kv" } = {},
): string {
  return `<jabberd>
    ${c2sSection(c2s, { certificate })}
    <service id="sessions"><host>${DOMAIN}</host><sm xmlns="jabberd:config:sm">${sm}</sm></service>
    <xdb id="xdb"><host/><kv>${kv}</kv></xdb>
  </jabberd>`;
}

/** The running section `id` of the world (`c2s` by default). */
export function sectionOf(world: TestServer, id = "c2s"): Section {
  const section = world.server.sections().find((s) => s.id === id);
  if (!section) throw new Error(`No section ${id} is running`);
  return section;
}

export async function addUser(world: TestServer, user: string, password = "secret") {
  await createAccount(world.xdb, `${user}@${DOMAIN}`, password, { iterations: 4096 });
}

/** What scramLogin needs of a client: the raw one below, or a real socket's. */
export interface TextClient {
  send(text: string): void;
  /** Waits for `pattern` in what arrived since the last match; returns the text up to it. */
  next(pattern: RegExp): Promise<string>;
}

export type RawClient = Awaited<ReturnType<typeof rawClient>>;

/** A raw client of the `c2s` listener; `from` is the address c2s sees (memory net only). */
export async function rawClient(world: TestServer, from?: string) {
  const options: Partial<ConnectOptions> & { from?: string } = { from };
  const conn = await world.connect("c2s", options);
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
    /** Waits for `pattern` in what arrived since the last `next`/`starttls`, returns that part. */
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

/** A raw client that did STARTTLS, SCRAM-SHA-256 as `user` and bound `resource`. */
export async function login(
  world: TestServer,
  user: string,
  resource = "r",
  password = "secret",
): Promise<RawClient> {
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
