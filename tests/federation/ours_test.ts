/**
 * Two jabberd servers federate with each other (RFC 6120 server streams, XEP-0220 dialback,
 * XEP-0178 SASL EXTERNAL, XEP-0368 direct TLS), a.test and b.test on one memory network, each
 * with `<route>` pins to the other: subscriptions both ways, presence, messages both ways, offline
 * storage of a federated message, bounces, and a peer that goes away and comes back. Sessions are
 * opened with the c2s ⇄ sm route packets (src/tree/ROUTING.md, "route").
 */
import assert from "node:assert/strict";
import { createAccount } from "../../src/accounts/store.ts";
import { memoryAdapters, MemoryConnection, MemoryNet } from "../../src/adapters/memory/mod.ts";
import type { ConnectOptions } from "../../src/adapters/types.ts";
import { denoAdapters } from "../../src/adapters/deno/mod.ts";
import { makeCertificates } from "../../src/tls/x509.ts";
import { type TestServer, testServer } from "../../src/server/_testing.ts";
import type { Packet } from "../../src/tree/packet.ts";
import { NS_DISCO_ITEMS, NS_ROSTER, NS_STANZAS_ERRORS } from "../../src/util/ns.ts";
import { parseDocument } from "../../src/xml/document.ts";
import { type Element, xml } from "../../src/xml/element.ts";

/** One certificate for a.test and b.test from one test CA, made once for the whole file. */
const certs = await makeCertificates(["a.test", "b.test"]);

interface Side {
  domain: string;
  ip: string;
  /** The STARTTLS and the direct TLS port. */
  port: number;
  tlsPort: number;
}

const A: Side = { domain: "a.test", ip: "127.0.0.1", port: 5269, tlsPort: 5270 };
const B: Side = { domain: "b.test", ip: "127.0.0.2", port: 5269, tlsPort: 5270 };

function config(self: Side, peer: Side, s2s: string): string {
  return `<jabberd>
    <service id="sessions">
      <host>${self.domain}</host>
      <sm xmlns="jabberd:config:sm"/>
    </service>
    <xdb id="xdb"><host/><kv>:memory:</kv></xdb>
    <service id="s2s">
      <s2s xmlns="jabberd:config:s2s">
        <listen ip="${self.ip}" port="${self.port}"/>
        <listen ip="${self.ip}" port="${self.tlsPort}" tls="direct"/>
        <secret>secret of ${self.domain}</secret>
        <tls cert="s2s.pem" key="s2s.key"/>
        <connect-timeout>2s</connect-timeout>
        ${
    s2s.replaceAll("PEER", peer.domain).replaceAll("PIP", peer.ip)
      .replaceAll("PTLSPORT", String(peer.tlsPort)).replaceAll("PPORT", String(peer.port))
  }
      </s2s>
    </service>
  </jabberd>`;
}

/** Dialback: no CA to check the peer's certificate with, so the peer is an insecure domain. */
const DIALBACK = `<route domain="PEER" host="PIP" port="PPORT"/>
  <insecure-domain>PEER</insecure-domain>`;
/** SASL EXTERNAL: both trust the test CA. */
const EXTERNAL = `<route domain="PEER" host="PIP" port="PPORT"/><ca>ca.pem</ca>`;
/** XEP-0368: the pin says direct TLS on 5270. */
const DIRECT = `<route domain="PEER" host="PIP" port="PTLSPORT" tls="direct"/><ca>ca.pem</ca>`;

/** A session opened as c2s opens one; `send` routes a stanza from it, `inbox` what it got. */
class Client {
  readonly jid: string;
  readonly inbox: Element[] = [];
  readonly #world: TestServer;
  readonly route: string;

  constructor(world: TestServer, jid: string, route: string) {
    this.#world = world;
    this.jid = jid;
    this.route = route;
  }

  send(text: string): void {
    const stanza = parseDocument(text, "test").root;
    stanza.attrs.from = this.jid;
    this.#world.router.deliver(xml("route", { to: this.jid, from: `c2s/${this.route}` }, stanza));
  }

  /** Waits (bounded) for a stanza matching `test` and takes it out of the inbox. */
  async next(test: (stanza: Element) => boolean, what: string): Promise<Element> {
    for (let round = 0; round < 400; round++) {
      const index = this.inbox.findIndex(test);
      if (index >= 0) return this.inbox.splice(index, 1)[0];
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    throw new Error(`${this.jid} never got ${what}; got ${this.inbox.join(" ")}`);
  }
}

/** A federated pair of worlds on one memory network. */
class Federation implements AsyncDisposable {
  readonly a: TestServer;
  readonly b: TestServer;
  readonly #toC2s = new Map<TestServer, Packet[]>();
  readonly #clients: Client[] = [];
  #next = 1;

  constructor(a: TestServer, b: TestServer) {
    this.a = a;
    this.b = b;
    for (const world of [a, b]) {
      const packets = world.collect("c2s");
      this.#toC2s.set(world, packets);
      // Sorts what the session manager sends to c2s into each client's inbox.
      const sort = () => {
        for (const packet of packets.splice(0)) {
          const client = this.#clients.find((c) => `c2s/${c.route}` === packet.element.attrs.to);
          const stanza = packet.element.elements[0];
          if (client && stanza) client.inbox.push(stanza);
        }
      };
      const timer = setInterval(sort, 2);
      this.#timers.push(timer);
    }
  }

  readonly #timers: ReturnType<typeof setInterval>[] = [];

  /** Every connection a server opened to the other. */
  connections: MemoryConnection[] = [];

  static async start(
    sA: string,
    sB: string,
    onConnect?: (conn: MemoryConnection, options: ConnectOptions) => void,
  ): Promise<Federation> {
    const net = new MemoryNet();
    const connections: MemoryConnection[] = [];
    const connect = net.connect.bind(net);
    net.connect = async (options) => {
      const conn = await connect(options) as MemoryConnection;
      connections.push(conn);
      onConnect?.(conn, options);
      return conn;
    };
    const files = {
      "/etc/jabberd/s2s.pem": certs.cert,
      "/etc/jabberd/s2s.key": certs.key,
      "/etc/jabberd/ca.pem": certs.ca,
    };
    const adapters = () => ({ ...memoryAdapters({ files }).adapters, net });
    const a = await testServer(config(A, B, sA), { adapters: adapters() });
    const b = await testServer(config(B, A, sB), { adapters: adapters() });
    const federation = await Federation.#withUsers(a, b);
    federation.connections = connections;
    return federation;
  }

  /**
   * The same on real sockets and real TLS (the Deno adapters): four free loopback ports, the
   * certificates in a temporary folder.
   */
  static async startOnSockets(sA: string, sB: string): Promise<Federation> {
    const dir = await Deno.makeTempDir({ prefix: "jabberd-federation-" });
    await Deno.writeTextFile(`${dir}/s2s.pem`, certs.cert);
    await Deno.writeTextFile(`${dir}/s2s.key`, certs.key);
    await Deno.writeTextFile(`${dir}/ca.pem`, certs.ca);
    const [pa, pat, pb, pbt] = freePorts(4);
    const sideA = { ...A, port: pa, tlsPort: pat };
    const sideB = { ...B, ip: "127.0.0.1", port: pb, tlsPort: pbt };
    const options = { adapters: denoAdapters(), file: `${dir}/jabberd.xml` };
    const a = await testServer(config(sideA, sideB, sA), options);
    const b = await testServer(config(sideB, sideA, sB), options);
    const federation = await Federation.#withUsers(a, b);
    federation.#cleanup = () => Deno.remove(dir, { recursive: true });
    return federation;
  }

  #cleanup = () => Promise.resolve();

  static async #withUsers(a: TestServer, b: TestServer): Promise<Federation> {
    for (const [world, domain] of [[a, "a.test"], [b, "b.test"]] as const) {
      for (const user of ["alice", "bob", "carol"]) {
        await createAccount(world.xdb, `${user}@${domain}`, "secret", { iterations: 4096 });
      }
    }
    return new Federation(a, b);
  }

  /** Logs `jid` in on its server and sends initial presence unless `available` is false. */
  async login(jid: string, available = true): Promise<Client> {
    const world = jid.endsWith("@a.test") || jid.includes("@a.test/") ? this.a : this.b;
    const route = String(this.#next++);
    const client = new Client(world, `${jid}/r`, route);
    this.#clients.push(client);
    world.router.deliver(xml("route", { type: "session", to: client.jid, from: `c2s/${route}` }));
    await world.settle();
    if (available) client.send(`<presence/>`);
    return client;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer);
    await this.a.stop();
    await this.b.stop();
    await this.#cleanup();
  }
}

/** Ports free right now on 127.0.0.1 (bound and released at once). */
function freePorts(count: number): number[] {
  const listeners = Array.from(
    { length: count },
    () => Deno.listen({ hostname: "127.0.0.1", port: 0 }),
  );
  const ports = listeners.map((l) => (l.addr as Deno.NetAddr).port);
  for (const listener of listeners) listener.close();
  return ports;
}

const isMessage = (body: string) => (s: Element) =>
  s.is("message") && s.getChildText("body") === body;

Deno.test("R35 two servers federate by dialback: a message goes a.test → b.test and back", async () => {
  await using fed = await Federation.start(DIALBACK, DIALBACK);
  const alice = await fed.login("alice@a.test");
  const bob = await fed.login("bob@b.test");
  alice.send(`<message to="bob@b.test/r" type="chat"><body>hello bob</body></message>`);
  const got = await bob.next(isMessage("hello bob"), "alice's message");
  assert.equal(got.attrs.from, "alice@a.test/r");
  bob.send(`<message to="alice@a.test/r" type="chat"><body>hello alice</body></message>`);
  await alice.next(isMessage("hello alice"), "bob's answer");
  assert.ok(fed.b.logLines().some((l) => l.includes("a.test authenticated by dialback")));
  assert.ok(fed.a.logLines().some((l) => l.includes("b.test authenticated by dialback")));
  // The s2s section lists its live peers (disco#items of its id).
  alice.send(`<iq type="get" id="peers" to="s2s"><query xmlns="${NS_DISCO_ITEMS}"/></iq>`);
  const peers = await alice.next((s) => s.attrs.id === "peers", "the peers");
  const items = peers.getChild("query", NS_DISCO_ITEMS)!.getChildren("item", NS_DISCO_ITEMS);
  assert.deepEqual(
    items.map((item) => `${item.attrs.jid} ${item.attrs.name}`).sort(),
    ["b.test inbound s2s stream", "b.test outbound s2s stream"],
  );
});

Deno.test("subscriptions both ways across servers, then presence flows and probes are answered", async () => {
  await using fed = await Federation.start(DIALBACK, DIALBACK);
  const alice = await fed.login("alice@a.test");
  const bob = await fed.login("bob@b.test");
  alice.send(`<presence to="bob@b.test" type="subscribe"/>`);
  await bob.next((s) => s.is("presence") && s.attrs.type === "subscribe", "alice's request");
  bob.send(`<presence to="alice@a.test" type="subscribed"/>`);
  // Approval: alice learns it, and gets bob's presence (b.test answers a.test's probe).
  await alice.next((s) => s.is("presence") && s.attrs.type === "subscribed", "the approval");
  await alice.next(
    (s) => s.is("presence") && s.attrs.type === undefined && s.attrs.from === "bob@b.test/r",
    "bob's presence",
  );
  bob.send(`<presence to="alice@a.test" type="subscribe"/>`);
  await alice.next((s) => s.is("presence") && s.attrs.type === "subscribe", "bob's request");
  alice.send(`<presence to="bob@b.test" type="subscribed"/>`);
  await bob.next(
    (s) => s.is("presence") && s.attrs.type === undefined && s.attrs.from === "alice@a.test/r",
    "alice's presence",
  );
  // Both rosters say both.
  for (const [client, peer] of [[alice, "bob@b.test"], [bob, "alice@a.test"]] as const) {
    client.send(`<iq type="get" id="roster"><query xmlns="jabber:iq:roster"/></iq>`);
    const roster = await client.next((s) => s.attrs.id === "roster", "the roster");
    const item = roster.getChild("query", NS_ROSTER)!.getChild("item", NS_ROSTER)!;
    assert.equal(item.attrs.jid, peer);
    assert.equal(item.attrs.subscription, "both");
  }
  // A new presence reaches the other side; going offline too.
  bob.send(`<presence><show>away</show></presence>`);
  await alice.next((s) => s.is("presence") && s.getChildText("show") === "away", "bob away");
  bob.send(`<presence type="unavailable"/>`);
  await alice.next((s) => s.is("presence") && s.attrs.type === "unavailable", "bob offline");
});

Deno.test("a federated message to a user who is offline is stored and delivered at login", async () => {
  await using fed = await Federation.start(DIALBACK, DIALBACK);
  const alice = await fed.login("alice@a.test");
  alice.send(`<message to="carol@b.test" type="chat"><body>read me later</body></message>`);
  // Stored once b.test has it; then carol logs in.
  let carol: Client | undefined;
  for (let round = 0; round < 100 && !carol; round++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    const stored = await fed.b.xdb.get("carol@b.test", "jabber:x:offline").catch(() => undefined);
    if (stored && stored.elements.length > 0) carol = await fed.login("carol@b.test");
  }
  assert.ok(carol, "the message was stored on b.test");
  const got = await carol.next(isMessage("read me later"), "the stored message");
  assert.equal(got.attrs.from, "alice@a.test/r");
  assert.ok(got.getChild("delay", "urn:xmpp:delay"), "it carries its delay");
});

Deno.test("a message to a domain that does not exist bounces remote-server-not-found", async () => {
  await using fed = await Federation.start(DIALBACK, DIALBACK);
  const alice = await fed.login("alice@a.test");
  alice.send(`<message to="nobody@nowhere.test" id="m1"><body>anyone?</body></message>`);
  const error = await alice.next((s) => s.attrs.id === "m1", "the bounce");
  assert.equal(error.attrs.type, "error");
  assert.equal(error.attrs.from, "nobody@nowhere.test");
  assert.ok(error.getChild("error")!.getChild("remote-server-not-found", NS_STANZAS_ERRORS));
});

Deno.test("two servers that trust each other's CA authenticate by SASL EXTERNAL", async () => {
  await using fed = await Federation.start(EXTERNAL, EXTERNAL);
  const alice = await fed.login("alice@a.test");
  const bob = await fed.login("bob@b.test");
  alice.send(`<message to="bob@b.test/r"><body>by certificate</body></message>`);
  await bob.next(isMessage("by certificate"), "alice's message");
  bob.send(`<message to="alice@a.test/r"><body>by certificate too</body></message>`);
  await alice.next(isMessage("by certificate too"), "bob's message");
  assert.ok(fed.b.logLines().some((l) => l.includes("a.test authenticated by SASL EXTERNAL")));
  assert.ok(fed.a.logLines().some((l) => l.includes("b.test authenticated by SASL EXTERNAL")));
  assert.ok(!fed.b.logLines().some((l) => l.includes("by dialback")));
});

Deno.test("a route pinned to direct TLS (XEP-0368) federates on the direct TLS port", async () => {
  await using fed = await Federation.start(DIRECT, DIRECT);
  const alice = await fed.login("alice@a.test");
  const bob = await fed.login("bob@b.test");
  alice.send(`<message to="bob@b.test/r"><body>direct</body></message>`);
  await bob.next(isMessage("direct"), "alice's message");
  assert.ok(fed.a.logLines().some((l) => l.includes("127.0.0.2:5270 (direct TLS)")));
  assert.ok(fed.b.logLines().some((l) => l.includes("a.test authenticated by SASL EXTERNAL")));
});

Deno.test("R36 a stream that drops is opened again and the waiting stanza gets through", async () => {
  const drops: MemoryConnection[] = [];
  await using fed = await Federation.start(DIALBACK, DIALBACK, (conn, options) => {
    // The first connection to b.test breaks during its negotiation.
    if (options.hostname === "127.0.0.2" && drops.length === 0) {
      drops.push(conn);
      queueMicrotask(() => conn.destroy());
    }
  });
  const alice = await fed.login("alice@a.test");
  const bob = await fed.login("bob@b.test");
  alice.send(`<message to="bob@b.test/r"><body>despite the drop</body></message>`);
  await bob.next(isMessage("despite the drop"), "the message sent while the stream broke");
  assert.equal(drops.length, 1);
  assert.ok(fed.a.logLines().some((l) => l.includes("reconnecting")));
  // A live stream that breaks: the next stanza opens a new one.
  const live = fed.connections.filter((c) => c.remote.hostname === "127.0.0.2").at(-1)!;
  live.destroy();
  await new Promise((resolve) => setTimeout(resolve, 10));
  alice.send(`<message to="bob@b.test/r"><body>after the break</body></message>`);
  await bob.next(isMessage("after the break"), "the message after the break");
});

Deno.test("on real sockets and TLS: SASL EXTERNAL one way, direct TLS, dialback for an insecure peer", async () => {
  // a.test trusts the CA and reaches b.test by direct TLS; b.test has no CA and lists a.test as
  // insecure: it takes a.test by dialback, and is itself taken by SASL EXTERNAL over STARTTLS.
  await using fed = await Federation.startOnSockets(
    DIRECT,
    `<route domain="PEER" host="PIP" port="PPORT"/><insecure-domain>PEER</insecure-domain>`,
  );
  const alice = await fed.login("alice@a.test");
  const bob = await fed.login("bob@b.test");
  alice.send(`<message to="bob@b.test/r"><body>over TCP</body></message>`);
  await bob.next(isMessage("over TCP"), "alice's message");
  bob.send(`<message to="alice@a.test/r"><body>and back</body></message>`);
  await alice.next(isMessage("and back"), "bob's message");
  const aLog = fed.a.logLines();
  const bLog = fed.b.logLines();
  assert.ok(aLog.some((l) => l.includes("(direct TLS)")), aLog.join("\n"));
  assert.ok(aLog.some((l) => l.includes("b.test authenticated by SASL EXTERNAL")), aLog.join("\n"));
  assert.ok(bLog.some((l) => l.includes("a.test authenticated by dialback")), bLog.join("\n"));
});
