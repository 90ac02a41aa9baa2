// c2s over real sockets (Deno adapters, loopback, port 0): STARTTLS, direct TLS with SNI
// (XEP-0368), SCRAM and SCRAM-PLUS with tls-server-end-point (RFC 5929), PLAIN and IPv6.
import assert from "node:assert/strict";
import { denoAdapters } from "../src/adapters/deno/mod.ts";
import { pemToDer } from "../src/adapters/tls_select.ts";
import {
  addUser,
  c2sServerConfig,
  scramLogin,
  type TextClient,
} from "../src/modules/c2s/_testing.ts";
import { type TestServer, testServer, TLS_FIXTURES } from "../src/server/_testing.ts";

const encoder = new TextEncoder();

/** A second domain with its own certificate, direct TLS and IPv6 besides the test's c2s. */
const CONFIG = c2sServerConfig(
  `<domain>chat.example.test</domain>
   <listen port="0" address="127.0.0.1" tls="direct"/>
   <listen port="0" address="::1"/>
   <certificate host="chat.example.test" cert="${TLS_FIXTURES}wildcard.pem"
     key="${TLS_FIXTURES}wildcard.key"/>`,
  { kv: ":memory:" },
);

/** A raw XMPP client on a Deno socket; reads only inside `next`, so STARTTLS can take over. */
class SocketClient implements TextClient {
  conn: Deno.Conn;
  text = "";
  #mark = 0;
  #decoder = new TextDecoder();
  #writing: Promise<unknown> = Promise.resolve();

  constructor(conn: Deno.Conn) {
    this.conn = conn;
  }

  send(text: string): void {
    const conn = this.conn;
    this.#writing = this.#writing.then(async () => {
      let bytes = encoder.encode(text);
      while (bytes.length > 0) bytes = bytes.subarray(await conn.write(bytes));
    });
  }

  open(to = "localhost"): void {
    this.send(
      `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${to}' version='1.0'>`,
    );
  }

  async next(pattern: RegExp): Promise<string> {
    const buf = new Uint8Array(16384);
    for (let reads = 0; reads < 1000; reads++) {
      const match = pattern.exec(this.text.slice(this.#mark));
      if (match) {
        const part = this.text.slice(this.#mark, this.#mark + match.index + match[0].length);
        this.#mark += match.index + match[0].length;
        return part;
      }
      const n = await this.conn.read(buf);
      if (n === null) throw new Error(`Closed; received ${this.text}`);
      this.text += this.#decoder.decode(buf.subarray(0, n), { stream: true });
    }
    throw new Error(`No ${pattern} after 1000 reads`);
  }

  async starttls(caCert: string, hostname = "localhost"): Promise<void> {
    this.open(hostname);
    await this.next(/<\/stream:features>/);
    this.send("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    await this.next(/<proceed[^>]*\/>/);
    await this.#writing;
    this.conn = await Deno.startTls(this.conn as Deno.TcpConn, { hostname, caCerts: [caCert] });
    this.text = "";
    this.#mark = 0;
  }

  close(): void {
    try {
      this.conn.close();
    } catch {
      // already closed by the server
    }
  }
}

async function withServer(body: (world: TestServer, clients: SocketClient[]) => Promise<void>) {
  await using world = await testServer(CONFIG, { adapters: denoAdapters() });
  const clients: SocketClient[] = [];
  try {
    await addUser(world, "alice");
    await body(world, clients);
  } finally {
    for (const client of clients) client.close();
  }
}

async function connect(clients: SocketClient[], hostname: string, port: number) {
  const client = new SocketClient(await Deno.connect({ hostname, port }));
  clients.push(client);
  return client;
}

Deno.test("c2s over TCP: STARTTLS, SCRAM-SHA-256 login and bind", async () => {
  await withServer(async (world, clients) => {
    const client = await connect(clients, "127.0.0.1", world.address("c2s").port);
    await client.starttls(world.certs.ca);
    client.open();
    const features = await client.next(/<\/stream:features>/);
    assert.match(features, /<mechanism>SCRAM-SHA-256<\/mechanism>/);
    assert.doesNotMatch(features, /starttls/);
    assert.match(await scramLogin(client, "SCRAM-SHA-256", "alice", "secret"), /<success/);
    client.open();
    assert.match(await client.next(/<\/stream:features>/), /xmpp-bind/);
    client.send(
      "<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'><resource>r</resource></bind></iq>",
    );
    assert.match(await client.next(/<\/iq>/), /<jid>alice@localhost\/r<\/jid>/);
  });
});

Deno.test("c2s over TCP: SCRAM-SHA-256-PLUS with tls-server-end-point of the real certificate", async () => {
  await withServer(async (world, clients) => {
    const client = await connect(clients, "127.0.0.1", world.address("c2s").port);
    await client.starttls(world.certs.ca);
    client.open();
    const features = await client.next(/<\/stream:features>/);
    assert.match(features, /SCRAM-SHA-256-PLUS/);
    assert.match(features, /<channel-binding type=.tls-server-end-point.\/>/);
    const der = pemToDer(world.certs.localhost.cert);
    const cb = new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(der)));
    assert.match(await scramLogin(client, "SCRAM-SHA-256-PLUS", "alice", "secret", cb), /<success/);
  });
});

Deno.test("c2s over TCP: SCRAM-SHA-256-PLUS with the hash of another certificate fails", async () => {
  await withServer(async (world, clients) => {
    const client = await connect(clients, "127.0.0.1", world.address("c2s").port);
    await client.starttls(world.certs.ca);
    client.open();
    await client.next(/<\/stream:features>/);
    const der = pemToDer(world.certs.wildcard.cert);
    const cb = new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(der)));
    const answer = await scramLogin(client, "SCRAM-SHA-256-PLUS", "alice", "secret", cb);
    assert.match(answer, /<failure/);
  });
});

Deno.test("c2s over TCP: PLAIN is refused before TLS and accepted after", async () => {
  await withServer(async (world, clients) => {
    const client = await connect(clients, "127.0.0.1", world.address("c2s").port);
    client.open();
    assert.doesNotMatch(await client.next(/<\/stream:features>/), /PLAIN/);
    const plain = encoder.encode("\0alice\0secret").toBase64();
    client.send(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${plain}</auth>`);
    assert.match(await client.next(/<\/failure>/), /<encryption-required\/>/);
    const secured = await connect(clients, "127.0.0.1", world.address("c2s").port);
    await secured.starttls(world.certs.ca);
    secured.open();
    assert.match(await secured.next(/<\/stream:features>/), /<mechanism>PLAIN<\/mechanism>/);
    secured.send(
      `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>${plain}</auth>`,
    );
    assert.match(await secured.next(/<\/success>|<success[^>]*\/>/), /<success/);
  });
});

Deno.test("c2s over direct TLS (XEP-0368) picks the certificate by SNI", async () => {
  await withServer(async (world, clients) => {
    const port = world.address("c2s-tls").port;
    for (
      const [host, pem] of [["localhost", world.certs.localhost.cert], [
        "chat.example.test",
        world.certs.wildcard.cert,
      ]]
    ) {
      const tcp = await Deno.connect({ hostname: "127.0.0.1", port });
      // rustls verifies the name: the handshake passes only with the certificate for `host`.
      const tls = await Deno.startTls(tcp, {
        hostname: host,
        caCerts: [world.certs.ca],
        alpnProtocols: ["xmpp-client"],
      });
      const client = new SocketClient(tls);
      clients.push(client);
      const info = await tls.handshake();
      assert.equal(info.alpnProtocol, "xmpp-client");
      client.open(host);
      const features = await client.next(/<\/stream:features>/);
      assert.doesNotMatch(features, /starttls/);
      assert.match(features, /SCRAM-SHA-256-PLUS/);
      if (host !== "localhost") continue; // the test world stores accounts for localhost only
      const der = pemToDer(pem);
      const cb = new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(der)));
      // The channel binding the server checks is that of the certificate it chose.
      assert.match(
        await scramLogin(client, "SCRAM-SHA-256-PLUS", "alice", "secret", cb),
        /<success/,
      );
    }
  });
});

Deno.test("c2s listens on IPv4 and IPv6 loopback", async () => {
  await withServer(async (world, clients) => {
    const starttls = world.addresses().filter((address) => address.name === "c2s");
    assert.deepEqual(starttls.map((address) => address.hostname), ["127.0.0.1", "::1"]);
    for (const { hostname, port } of starttls) {
      const client = await connect(clients, hostname, port);
      client.open();
      assert.match(await client.next(/<\/stream:features>/), /<starttls /);
    }
  });
});
