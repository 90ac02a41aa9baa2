/**
 * The s2s component against a scripted peer on the memory network: the outbound side
 * (piggybacking, the bounce conditions, certificate refusal) and the inbound side (header checks,
 * SASL EXTERNAL, `invalid-from`, `<db:verify>`, TLS before dialback, the stanza limit).
 */
import assert from "node:assert/strict";
import { Received } from "../../adapters/net_conformance.ts";
import type { Connection } from "../../adapters/types.ts";
import type { ModuleApi, ModuleDefinition } from "../../server/module_api.ts";
import { type TestServer, testServer } from "../../server/_testing.ts";
import type { Packet } from "../../tree/packet.ts";
import { xml } from "../../xml/element.ts";
import { makeCertificates } from "../../tls/x509.ts";
import { dialbackKey } from "./dialback.ts";
import { type Peer, S2S_PEERS } from "../../server/s2s_peers.ts";

const SECRET = "the secret";
const PEER_HEADER = (from: string, to: string, id?: string) =>
  `<?xml version='1.0'?><stream:stream xmlns='jabber:server' ` +
  `xmlns:stream='http://etherx.jabber.org/streams' xmlns:db='jabber:server:dialback' ` +
  `from='${from}' to='${to}'${id ? ` id='${id}'` : ""} version='1.0'>`;

const peerCerts = await makeCertificates(["c.test"]);

function config(s2s: string): string {
  return `<jabberd>
    <service id="s2s">
      <s2s xmlns="jabberd:config:s2s">
        <listen ip="127.0.0.1" port="5269"/>
        <secret>${SECRET}</secret>
        <route domain="b.test" host="127.0.0.2" port="5269"/>
        <tls cert="tls.pem" key="tls.key"/>
        <connect-timeout>2s</connect-timeout>
        ${s2s}
      </s2s>
    </service>
  </jabberd>`;
}

/** A world with s2s, and a collector standing in for the session manager of a.test and a2.test. */
async function world(s2s = "<require-tls>false</require-tls>") {
  const server = await testServer(config(s2s), {
    memory: { files: { "/etc/jabberd/peer-ca.pem": peerCerts.ca } },
  });
  const local = server.collect("local", ["a.test", "a2.test"]);
  return { server, local };
}

/** Waits a bounded while for `condition`. */
async function until(condition: () => boolean, what: string): Promise<void> {
  for (let round = 0; round < 300; round++) {
    if (condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  throw new Error(`Gave up waiting for ${what}`);
}

/**
 * A scripted receiving server (b.test at 127.0.0.2:5269 unless `at` says), without TLS: answers
 * each stream header with a header and the dialback feature, and each `<db:result>` with `answer`.
 */
async function fakeReceiver(
  server: TestServer,
  answer: "valid" | "invalid" | "silent" = "valid",
  at = { domain: "b.test", hostname: "127.0.0.2", port: 5269 },
  /** false: no dialback feature (a server of before XEP-0220's, or EXTERNAL-only). */
  dialbackFeature = true,
) {
  const peer = { connections: 0, results: [] as string[], received: [] as Received[] };
  const domain = at.domain;
  await server.memory.net.listen({ hostname: at.hostname, port: at.port }, (conn) => {
    peer.connections++;
    const received = new Received(conn);
    peer.received.push(received);
    let headers = 0;
    let results = 0;
    conn.onData((chunk) => {
      received.add(chunk);
      if (answer === "silent") return;
      const opened = received.text.split("<stream:stream").length - 1;
      for (; headers < opened; headers++) {
        conn.write(PEER_HEADER(domain, "a.test", `id${peer.connections}`));
        const feature = dialbackFeature ? `<dialback xmlns='urn:xmpp:features:dialback'/>` : "";
        conn.write(`<stream:features>${feature}</stream:features>`);
      }
      const asked = [...received.text.matchAll(/<db:result from='([^']+)' to='([^']+)'>/g)];
      for (; results < asked.length; results++) {
        const from = asked[results][1];
        peer.results.push(from);
        conn.write(`<db:result from='${domain}' to='${from}' type='${answer}'/>`);
      }
    });
  });
  return peer;
}

const message = (from: string, body: string) =>
  xml("message", { from, to: "bob@b.test", id: body }, xml("body", {}, body));

const errorOf = (packets: Packet[], id: string) => {
  const bounce = packets.find((p) => p.element.attrs.id === id)?.element;
  return bounce?.attrs.type === "error" ? bounce.getChild("error")?.elements[0]?.name : undefined;
};

Deno.test("R36 Outbound piggybacks a second local domain on the same stream by dialback", async () => {
  const { server } = await world();
  await using _ = server;
  const peer = await fakeReceiver(server);
  server.router.deliver(message("alice@a.test/r", "one"));
  server.router.deliver(message("bob@a2.test/r", "two"));
  const text = () => peer.received[0]?.text ?? "";
  await until(
    () => text().includes("<body>one</body>") && text().includes("<body>two</body>"),
    "both messages",
  );
  assert.equal(peer.connections, 1);
  assert.deepEqual(peer.results.sort(), ["a.test", "a2.test"]);
  // The key is XEP-0185's for that stream, checkable by us only.
  const key = await dialbackKey(SECRET, "b.test", "a.test", "id1");
  assert.ok(peer.received[0].text.includes(`>${key}</db:result>`));
});

Deno.test("R36 Outbound bounces remote-server-not-found when the domain cannot be reached", async () => {
  const { server, local } = await world();
  await using _ = server;
  server.router.deliver(message("alice@a.test/r", "m1"));
  await until(() => errorOf(local, "m1") !== undefined, "the bounce");
  assert.equal(errorOf(local, "m1"), "remote-server-not-found");
});

Deno.test("R36 Outbound bounces remote-server-timeout when the peer never answers", async () => {
  const { server, local } = await world();
  await using _ = server;
  const peer = await fakeReceiver(server, "silent");
  server.router.deliver(message("alice@a.test/r", "m2"));
  await until(() => peer.connections === 1, "the connection");
  await server.memory.clock.advanceAsync(7000);
  await until(() => errorOf(local, "m2") !== undefined, "the bounce");
  assert.equal(errorOf(local, "m2"), "remote-server-timeout");
});

Deno.test("R36 Outbound bounces what waits for a domain the peer refuses by dialback", async () => {
  const { server, local } = await world();
  await using _ = server;
  await fakeReceiver(server, "invalid");
  server.router.deliver(message("alice@a.test/r", "m3"));
  await until(() => errorOf(local, "m3") !== undefined, "the bounce");
  assert.equal(errorOf(local, "m3"), "remote-server-not-found");
});

Deno.test("R35 Outbound never relays a stanza from a domain that is not ours", async () => {
  const { server } = await world();
  await using _ = server;
  const peer = await fakeReceiver(server);
  server.router.deliver(message("eve@x.test/r", "m4"));
  server.router.deliver(message("alice@a.test/r", "m5"));
  await until(() => peer.results.length === 1, "the stream for a.test");
  // Only a.test asked to be authenticated; eve's stanza never left.
  assert.deepEqual(peer.results, ["a.test"]);
  await until(() => /<body>m5<\/body>/.test(peer.received[0].text), "a.test's stanza");
  assert.doesNotMatch(peer.received[0].text, /m4/);
});

Deno.test("R38 Outbound refuses a peer whose certificate does not verify unless it is insecure", async () => {
  for (const insecure of [false, true]) {
    const { server, local } = await world(
      insecure ? "<insecure-domain>b.test</insecure-domain>" : "",
    );
    await using _ = server;
    let state: "header" | "starttls" | "done" = "header";
    await server.memory.net.listen({ hostname: "127.0.0.2", port: 5269 }, (conn) => {
      const received = new Received(conn);
      conn.onData(async (chunk) => {
        received.add(chunk);
        if (state === "header" && received.text.includes("<stream:stream")) {
          state = "starttls";
          conn.write(PEER_HEADER("b.test", "a.test", "x"));
          conn.write(
            `<stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/></stream:features>`,
          );
        } else if (state === "starttls" && received.text.includes("<starttls")) {
          state = "done";
          conn.write(`<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`);
          // The peer shows a certificate for c.test only: not b.test's.
          await conn.startTlsServer({ default: { cert: peerCerts.cert, key: peerCerts.key } });
        }
      });
    });
    server.router.deliver(message("alice@a.test/r", "m5"));
    if (insecure) {
      await until(
        () => server.logLines().some((l) => l.includes("going on with dialback only")),
        "the insecure notice",
      );
    } else {
      await until(() => errorOf(local, "m5") !== undefined, "the bounce");
      assert.equal(errorOf(local, "m5"), "remote-server-not-found");
      assert.ok(server.logLines().some((l) => l.includes("refusing b.test")));
    }
  }
});

/** A scripted originating server on our listener; `starttls()` shows c.test's certificate. */
async function fakeOriginator(server: TestServer, from: string, to = "a.test") {
  const conn: Connection = await server.memory.net.connect({ hostname: "127.0.0.1", port: 5269 });
  let received = new Received(conn);
  const peer = {
    conn,
    get text() {
      return received.text;
    },
    open(streamFrom = from) {
      conn.write(PEER_HEADER(streamFrom, to));
    },
    wait: (pattern: RegExp) => received.wait((text) => pattern.test(text)),
    async starttls() {
      peer.open();
      await peer.wait(/<\/stream:features>/);
      conn.write(`<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>`);
      await peer.wait(/<proceed/);
      await conn.startTlsClient({
        serverName: to,
        certificate: { cert: peerCerts.cert, key: peerCerts.key },
        verify: false,
      });
      received = new Received(conn);
    },
    closed: () => received.closed,
  };
  return peer;
}

Deno.test("Inbound answers a stream to a domain it does not serve with host-unknown", async () => {
  const { server } = await world();
  await using _ = server;
  const peer = await fakeOriginator(server, "c.test", "nobody.test");
  peer.open();
  await peer.wait(/<\/stream:stream>/);
  assert.match(peer.text, /<host-unknown /);
});

Deno.test("Inbound refuses a client stream with invalid-namespace", async () => {
  const { server } = await world();
  await using _ = server;
  const peer = await fakeOriginator(server, "c.test");
  peer.conn.write(
    `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='a.test' version='1.0'>`,
  );
  await peer.wait(/<\/stream:stream>/);
  assert.match(peer.text, /<invalid-namespace /);
});

Deno.test("R38 Inbound offers SASL EXTERNAL for a valid certificate, then refuses other domains with invalid-from", async () => {
  const { server, local } = await world("<ca>peer-ca.pem</ca>");
  await using _ = server;
  const peer = await fakeOriginator(server, "c.test");
  await peer.starttls();
  peer.open();
  await peer.wait(/<\/stream:features>/);
  assert.match(peer.text, /<mechanism>EXTERNAL<\/mechanism>/);
  peer.conn.write(`<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>=</auth>`);
  await peer.wait(/<success/);
  peer.open();
  await peer.wait(/<\/stream:features>[^]*<\/stream:features>/);
  peer.conn.write(
    `<message from='carl@c.test' to='alice@a.test' id='ok'><body>hi</body></message>`,
  );
  await until(() => local.some((p) => p.element.attrs.id === "ok"), "the stanza from c.test");
  peer.conn.write(`<message from='eve@d.test' to='alice@a.test' id='forged'/>`);
  await peer.wait(/<\/stream:stream>/);
  assert.match(peer.text, /<invalid-from /);
  assert.ok(!local.some((p) => p.element.attrs.id === "forged"));
});

Deno.test("Inbound refuses SASL EXTERNAL for a domain the certificate does not name", async () => {
  const { server } = await world("<ca>peer-ca.pem</ca>");
  await using _ = server;
  const peer = await fakeOriginator(server, "c.test");
  await peer.starttls();
  peer.open();
  await peer.wait(/<\/stream:features>/);
  peer.conn.write(
    `<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='EXTERNAL'>${btoa("d.test")}</auth>`,
  );
  await peer.wait(/<failure/);
  assert.match(peer.text, /<not-authorized\/>/);
});

Deno.test("Inbound answers <db:verify> valid for its own key only", async () => {
  const { server } = await world();
  await using _ = server;
  const peer = await fakeOriginator(server, "b.test");
  peer.open();
  await peer.wait(/<\/stream:features>/);
  const key = await dialbackKey(SECRET, "b.test", "a.test", "s1");
  peer.conn.write(`<db:verify from='b.test' to='a.test' id='s1'>${key}</db:verify>`);
  peer.conn.write(`<db:verify from='b.test' to='a.test' id='s2'>${key}</db:verify>`);
  await peer.wait(/id='s2' type='[a-z]+'/);
  assert.match(peer.text, /<db:verify from='a.test' to='b.test' id='s1' type='valid'\/>/);
  assert.match(peer.text, /<db:verify from='a.test' to='b.test' id='s2' type='invalid'\/>/);
});

Deno.test("R38 Inbound refuses dialback before STARTTLS when TLS is required", async () => {
  const { server } = await world("");
  await using _ = server;
  const peer = await fakeOriginator(server, "b.test");
  peer.open();
  await peer.wait(/<\/stream:features>/);
  assert.match(
    peer.text,
    /<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required\/><\/starttls>/,
  );
  peer.conn.write(`<db:result from='b.test' to='a.test'>abc</db:result>`);
  await peer.wait(/<\/stream:stream>/);
  assert.match(peer.text, /<policy-violation /);
});

Deno.test("Inbound ends a stream whose stanza exceeds <limits stanza-size>", async () => {
  const { server } = await world(`<require-tls>false</require-tls><limits stanza-size="1KiB"/>`);
  await using _ = server;
  const peer = await fakeOriginator(server, "b.test");
  peer.open();
  await peer.wait(/<\/stream:features>/);
  peer.conn.write(
    `<message from='x@b.test' to='alice@a.test'><body>${"x".repeat(2048)}</body></message>`,
  );
  await peer.wait(/<\/stream:stream>/);
  assert.match(peer.text, /<policy-violation /);
});

Deno.test("Outbound closes a stream that stayed idle for <idle-timeout>", async () => {
  const { server } = await world(`<require-tls>false</require-tls><idle-timeout>1m</idle-timeout>`);
  await using _ = server;
  const peer = await fakeReceiver(server);
  server.router.deliver(message("alice@a.test/r", "idle"));
  await until(() => /<body>idle<\/body>/.test(peer.received[0]?.text ?? ""), "the message");
  await server.memory.clock.advanceAsync(30_000);
  assert.doesNotMatch(peer.received[0].text, /<\/stream:stream>/);
  await server.memory.clock.advanceAsync(31_000);
  await peer.received[0].closed;
  assert.match(peer.received[0].text, /<\/stream:stream>$/);
});

Deno.test("Outbound gives a later dialback verification its own deadline on a live stream", async () => {
  const { server } = await world();
  await using _ = server;
  const peer = await fakeReceiver(server);
  server.router.deliver(message("alice@a.test/r", "first"));
  await until(() => /<body>first<\/body>/.test(peer.received[0]?.text ?? ""), "the message");
  await server.memory.clock.advanceAsync(30_000);
  // b.test now connects to us; we verify its key over our live stream, and the peer is slow.
  const originator = await fakeOriginator(server, "b.test");
  originator.open();
  await originator.wait(/<\/stream:features>/);
  originator.conn.write(`<db:result from='b.test' to='a.test'>k</db:result>`);
  await until(() => peer.received[0].text.includes("<db:verify"), "the verification");
  await server.memory.clock.advanceAsync(2000);
  assert.doesNotMatch(peer.received[0].text, /<\/stream:stream>/, "still waiting");
  await server.memory.clock.advanceAsync(5000);
  await originator.wait(/type='error'/);
  assert.match(originator.text, /<remote-server-timeout /);
});

Deno.test("R37 Outbound finds an unpinned domain through its SRV record and the target's address", async () => {
  const { server } = await world();
  await using _ = server;
  server.memory.dns
    .setSrv("_xmpp-server._tcp.c.test", [{
      target: "xmpp.c.test.",
      port: 5288,
      priority: 0,
      weight: 0,
    }])
    .setAddresses("xmpp.c.test", ["127.0.0.3"]);
  const peer = await fakeReceiver(server, "valid", {
    domain: "c.test",
    hostname: "127.0.0.3",
    port: 5288,
  });
  server.router.deliver(
    xml("message", { from: "alice@a.test/r", to: "carl@c.test" }, xml("body", {}, "srv")),
  );
  await until(() => /<body>srv<\/body>/.test(peer.received[0]?.text ?? ""), "the message");
  assert.match(peer.received[0].text, /to='c\.test'/);
});

Deno.test("s2s offers its live peers under S2S_PEERS", async () => {
  // A module of the test's own reads the offer, as the admin API does.
  let api: ModuleApi | undefined;
  const peek: ModuleDefinition = {
    element: "peek",
    sections: ["service"],
    register: (a) => void (api = a),
  };
  const text = config("<require-tls>false</require-tls>")
    .replace("</jabberd>", `<service id="peek"><peek/></service></jabberd>`);
  await using server = await testServer(text, { modules: [peek] });
  server.collect("local", ["a.test"]);
  const peer = await fakeReceiver(server);
  server.router.deliver(message("alice@a.test/r", "peers"));
  await until(() => /<body>peers<\/body>/.test(peer.received[0]?.text ?? ""), "the message");
  const offered = api!.offered<() => Peer[]>(S2S_PEERS);
  assert.deepEqual(offered.map((offer) => offer.value()), [[
    { domain: "b.test", direction: "outbound", locals: ["a.test"] },
  ]]);
});

Deno.test("R36 Outbound gives each local domain a stream of its own when the peer offers no dialback", async () => {
  const { server } = await world();
  await using _ = server;
  const peer = await fakeReceiver(server, "valid", undefined, false);
  server.router.deliver(message("alice@a.test/r", "one"));
  await until(() => /<body>one<\/body>/.test(peer.received[0]?.text ?? ""), "the first message");
  server.router.deliver(message("bob@a2.test/r", "two"));
  await until(() => /<body>two<\/body>/.test(peer.received[1]?.text ?? ""), "the second message");
  assert.equal(peer.connections, 2);
  assert.match(peer.received[0].text, /from='a\.test'/);
  assert.doesNotMatch(peer.received[0].text, /a2\.test/);
  assert.match(peer.received[1].text, /<stream:stream [^>]*from='a2\.test'/);
});

Deno.test("R36 Outbound moves what waited to a stream of its own once the peer shows no dialback", async () => {
  const { server } = await world();
  await using _ = server;
  const peer = await fakeReceiver(server, "valid", undefined, false);
  server.router.deliver(message("alice@a.test/r", "one"));
  server.router.deliver(message("bob@a2.test/r", "two"));
  await until(() => peer.received.length === 2, "two connections");
  const texts = () => peer.received.map((r) => r.text).join("\n");
  await until(() => /<body>one<\/body>/.test(texts()) && /<body>two<\/body>/.test(texts()), "both");
  assert.equal(peer.connections, 2);
  for (const received of peer.received) {
    const from = /<stream:stream [^>]*from='([^']+)'/.exec(received.text)![1];
    assert.deepEqual([...received.text.matchAll(/<db:result from='([^']+)'/g)].map((m) => m[1]), [
      from,
    ]);
  }
});

Deno.test("Inbound refuses more streams from one domain than <limits connections-per-domain>", async () => {
  const { server } = await world(
    `<require-tls>false</require-tls><limits connections-per-domain="1"/>`,
  );
  await using _ = server;
  const first = await fakeOriginator(server, "b.test");
  const second = await fakeOriginator(server, "b.test");
  for (const peer of [first, second]) {
    peer.open();
    await peer.wait(/<\/stream:features>/);
    peer.conn.write(`<db:result from='b.test' to='a.test'>key</db:result>`);
  }
  await second.wait(/<db:result [^>]*type='error'/);
  assert.match(second.text, /<policy-violation /);
  assert.ok(server.logLines().some((l) => l.includes("limit <limits connections-per-domain>")));
});
