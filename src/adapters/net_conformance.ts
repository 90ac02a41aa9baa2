/**
 * The shared conformance suite for NetAdapter implementations: TCP streams, close events,
 * STARTTLS (RFC 6120 §5) and direct TLS with SNI and ALPN (XEP-0368), so the in-memory adapter
 * used by unit tests behaves like the real one.
 */

import assert from "node:assert/strict";
import type { Connection, NetAdapter, ServerTlsOptions } from "./types.ts";
import { pemToDer } from "./tls_select.ts";

const fixtures = new URL("../../tests/fixtures/tls/", import.meta.url);

/** The test CA and its two leaves (see tools/make_test_certs.sh). */
export function testCertificates(): {
  ca: string;
  localhost: { cert: string; key: string };
  wildcard: { cert: string; key: string };
} {
  const read = (name: string) => Deno.readTextFileSync(new URL(name, fixtures));
  return {
    ca: read("ca.pem"),
    localhost: { cert: read("localhost.pem"), key: read("localhost.key") },
    wildcard: { cert: read("wildcard.pem"), key: read("wildcard.key") },
  };
}

/** Collects what a connection receives, as text, and waits for it to satisfy a condition. */
export class Received {
  text = "";
  bytes = 0;
  closed: Promise<Error | undefined>;
  #decoder = new TextDecoder();
  #waiters: { until: (text: string) => boolean; resolve: () => void }[] = [];

  constructor(conn: Connection) {
    conn.onData((chunk) => this.add(chunk));
    this.closed = new Promise((resolve) => conn.onClose(resolve));
  }

  add(chunk: Uint8Array): void {
    this.bytes += chunk.length;
    this.text += this.#decoder.decode(chunk, { stream: true });
    this.#waiters = this.#waiters.filter((waiter) => {
      if (!waiter.until(this.text)) return true;
      waiter.resolve();
      return false;
    });
  }

  /** Resolves once the text received satisfies `until`, or rejects if the stream closes first. */
  wait(until: (text: string) => boolean): Promise<string> {
    if (until(this.text)) return Promise.resolve(this.text);
    return new Promise<string>((resolve, reject) => {
      this.#waiters.push({ until, resolve: () => resolve(this.text) });
      this.closed.then(() => {
        if (!until(this.text)) {
          reject(new Error(`Closed after receiving ${this.text.length} chars`));
        }
      });
    });
  }
}

/** Starts a server, runs `body`, then closes everything it opened. */
async function withServer(
  net: NetAdapter,
  tls: ServerTlsOptions | undefined,
  onConnection: (conn: Connection) => void,
  body: (port: number) => Promise<void>,
): Promise<void> {
  const listener = await net.listen({ hostname: "127.0.0.1", port: 0, tls }, onConnection);
  try {
    assert.ok(listener.address.port > 0);
    await body(listener.address.port);
  } finally {
    await listener.close();
  }
}

/** A server that echoes every chunk back. */
function echo(conn: Connection): void {
  conn.onData((chunk) => conn.write(chunk));
}

/** Registers the suite's tests under `name`; `makeNet` gives the adapter to test. */
export function netConformance(name: string, makeNet: () => NetAdapter): void {
  const test = (title: string, body: (net: NetAdapter) => Promise<void>) =>
    Deno.test(`NetAdapter (${name}) ${title}`, () => body(makeNet()));

  test("echoes a message over a connection", async (net) => {
    await withServer(net, undefined, echo, async (port) => {
      const conn = await net.connect({ hostname: "127.0.0.1", port });
      assert.equal(conn.secure, false);
      assert.equal(conn.tls, undefined);
      assert.equal(conn.remote.port, port);
      const received = new Received(conn);
      conn.write("<stream:stream to='localhost'>");
      assert.equal(
        await received.wait((t) => t.length >= 30),
        "<stream:stream to='localhost'>",
      );
      conn.close();
      assert.equal(await received.closed, undefined);
    });
  });

  test("keeps the order of many writes of strings and bytes", async (net) => {
    await withServer(net, undefined, echo, async (port) => {
      const conn = await net.connect({ hostname: "127.0.0.1", port });
      const received = new Received(conn);
      let expected = "";
      for (let i = 0; i < 2000; i++) {
        const piece = `<message id='${i}'>é${i}</message>`;
        expected += piece;
        conn.write(i % 3 === 0 ? new TextEncoder().encode(piece) : piece);
        // Spread writes over several macrotasks too, not only one coalesced batch.
        if (i % 500 === 499) await new Promise((resolve) => setTimeout(resolve, 0));
      }
      assert.equal(await received.wait((t) => t.length >= expected.length), expected);
      conn.close();
      await received.closed;
    });
  });

  test("carries a large write intact", async (net) => {
    const size = 4 * 1024 * 1024;
    const data = new Uint8Array(size);
    for (let i = 0; i < size; i++) data[i] = (i * 31 + (i >> 8)) & 0xff;
    let serverGot: Uint8Array[] = [];
    let serverBytes = 0;
    const done = Promise.withResolvers<void>();
    await withServer(net, undefined, (conn) => {
      conn.onData((chunk) => {
        serverGot.push(chunk.slice());
        serverBytes += chunk.length;
        if (serverBytes === size) done.resolve();
      });
    }, async (port) => {
      const conn = await net.connect({ hostname: "127.0.0.1", port });
      conn.write(data);
      await done.promise;
      const joined = new Uint8Array(size);
      let offset = 0;
      for (const chunk of serverGot) {
        joined.set(chunk, offset);
        offset += chunk.length;
      }
      serverGot = [];
      assert.ok(joined.every((byte, i) => byte === data[i]), "the bytes differ");
      conn.close();
    });
  });

  test("delivers what was written before close(), then the close event", async (net) => {
    const serverSide = Promise.withResolvers<Received>();
    await withServer(
      net,
      undefined,
      (conn) => serverSide.resolve(new Received(conn)),
      async (port) => {
        const conn = await net.connect({ hostname: "127.0.0.1", port });
        const clientClosed = new Promise((resolve) => conn.onClose(resolve));
        conn.write("</stream:stream>");
        conn.close();
        const server = await serverSide.promise;
        assert.equal(await server.closed, undefined);
        assert.equal(server.text, "</stream:stream>");
        assert.equal(await clientClosed, undefined);
      },
    );
  });

  test("tells the client when the server closes", async (net) => {
    await withServer(net, undefined, (conn) => {
      conn.onData(() => {
        conn.write("<stream:error/>");
        conn.close();
      });
    }, async (port) => {
      const conn = await net.connect({ hostname: "127.0.0.1", port });
      const received = new Received(conn);
      conn.write("junk");
      assert.equal(await received.closed, undefined);
      assert.equal(received.text, "<stream:error/>");
      // Writing after the end is ignored rather than thrown.
      conn.write("late");
    });
  });

  test("pause() holds data back until resume()", async (net) => {
    const serverSide = Promise.withResolvers<Connection>();
    await withServer(net, undefined, (conn) => serverSide.resolve(conn), async (port) => {
      const conn = await net.connect({ hostname: "127.0.0.1", port });
      const server = await serverSide.promise;
      const received = new Received(server);
      server.pause();
      conn.write("one");
      // A round trip the other way proves the write had time to arrive.
      const back = new Received(conn);
      server.write("ping");
      await back.wait((t) => t === "ping");
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(received.text, "");
      server.resume();
      assert.equal(await received.wait((t) => t === "one"), "one");
      conn.close();
      await received.closed;
    });
  });

  test("refuses a connection to a port nobody listens on", async (net) => {
    const listener = await net.listen({ hostname: "127.0.0.1", port: 0 }, () => {});
    const port = listener.address.port;
    await listener.close();
    await assert.rejects(net.connect({ hostname: "127.0.0.1", port }));
  });

  test("upgrades a connection with STARTTLS on both sides", async (net) => {
    const certs = testCertificates();
    const serverTls: ServerTlsOptions = {
      default: certs.localhost,
      byName: { "*.example.test": certs.wildcard },
    };
    const serverSide = Promise.withResolvers<Connection>();
    await withServer(net, undefined, (conn) => {
      conn.onData(async (chunk) => {
        const text = new TextDecoder().decode(chunk);
        if (text === "<starttls/>") {
          conn.pause();
          conn.write("<proceed/>");
          await conn.startTlsServer(serverTls);
          conn.resume();
          serverSide.resolve(conn);
        } else {
          conn.write(`echo:${text}`);
        }
      });
    }, async (port) => {
      const conn = await net.connect({ hostname: "127.0.0.1", port });
      const proceed = Promise.withResolvers<void>();
      conn.onData((chunk) => {
        if (new TextDecoder().decode(chunk) === "<proceed/>") proceed.resolve();
      });
      conn.write("<starttls/>");
      await proceed.promise;
      await conn.startTlsClient({ serverName: "localhost", caCerts: [certs.ca] });
      assert.equal(conn.secure, true);
      assert.deepEqual(conn.tls?.peerCertificate, pemToDer(certs.localhost.cert));
      const received = new Received(conn);
      conn.write("secret");
      assert.equal(await received.wait((t) => t === "echo:secret"), "echo:secret");
      const server = await serverSide.promise;
      assert.equal(server.secure, true);
      assert.equal(server.tls?.serverName, "localhost");
      assert.deepEqual(server.tls?.localCertificate, pemToDer(certs.localhost.cert));
      const serverClosed = new Promise((resolve) => server.onClose(resolve));
      conn.close();
      assert.equal(await serverClosed, undefined);
      await received.closed;
    });
  });

  test("startTlsServer() rejects with an Error when the client closes instead", async (net) => {
    const certs = testCertificates();
    const failure = Promise.withResolvers<unknown>();
    await withServer(net, undefined, (conn) => {
      conn.onData(() => {
        conn.pause();
        conn.write("<proceed/>");
        conn.startTlsServer({ default: certs.localhost }).then(
          () => failure.resolve("the handshake succeeded"),
          failure.resolve,
        );
      });
    }, async (port) => {
      const conn = await net.connect({ hostname: "127.0.0.1", port });
      const received = new Received(conn);
      conn.write("<starttls/>");
      await received.wait((text) => text === "<proceed/>");
      conn.close();
      const error = await failure.promise;
      assert.ok(error instanceof Error, `rejected with ${String(error)}`);
      assert.match(error.message, /closed during the TLS handshake/);
    });
  });

  test("serves direct TLS with the certificate chosen by SNI and ALPN", async (net) => {
    const certs = testCertificates();
    const serverTls: ServerTlsOptions = {
      default: certs.localhost,
      byName: { "*.example.test": certs.wildcard },
      alpnProtocols: ["xmpp-client"],
    };
    const accepted: Connection[] = [];
    await withServer(net, serverTls, (conn) => {
      accepted.push(conn);
      echo(conn);
    }, async (port) => {
      for (
        const [serverName, pair] of [["chat.example.test", certs.wildcard], [
          "localhost",
          certs.localhost,
        ]] as const
      ) {
        const conn = await net.connect({
          hostname: "127.0.0.1",
          port,
          tls: { serverName, caCerts: [certs.ca], alpnProtocols: ["xmpp-client"] },
        });
        assert.equal(conn.secure, true);
        assert.equal(conn.tls?.alpnProtocol, "xmpp-client");
        assert.deepEqual(conn.tls?.peerCertificate, pemToDer(pair.cert));
        const received = new Received(conn);
        conn.write("<presence/>");
        assert.equal(await received.wait((t) => t === "<presence/>"), "<presence/>");
        const server = accepted.at(-1)!;
        assert.equal(server.secure, true);
        assert.equal(server.tls?.serverName, serverName);
        assert.equal(server.tls?.alpnProtocol, "xmpp-client");
        assert.deepEqual(server.tls?.localCertificate, pemToDer(pair.cert));
        conn.close();
        await received.closed;
      }
    });
  });

  test("hands a requested client certificate to the server; verify:false takes any server", async (net) => {
    const certs = testCertificates();
    const accepted: Connection[] = [];
    await withServer(net, { default: certs.localhost, requestCertificate: true }, (conn) => {
      accepted.push(conn);
      echo(conn);
    }, async (port) => {
      // The name does not match the server's certificate and no CA is given: only verify:false
      // lets the handshake through (s2s checks the certificate itself).
      const conn = await net.connect({
        hostname: "127.0.0.1",
        port,
        tls: { serverName: "other.test", certificate: certs.wildcard, verify: false },
      });
      assert.deepEqual(conn.tls?.peerCertificate, pemToDer(certs.localhost.cert));
      const received = new Received(conn);
      conn.write("hello");
      await received.wait((t) => t === "hello");
      assert.deepEqual(accepted[0].tls?.peerCertificate, pemToDer(certs.wildcard.cert));
      conn.close();
      await received.closed;
    });
  });
}
