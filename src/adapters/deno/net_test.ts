import assert from "node:assert/strict";
import type { Connection, ServerTlsOptions } from "../types.ts";
import { Received, testCertificates } from "../net_conformance.ts";
import { DenoNet } from "./net.ts";

/** A server doing the XMPP STARTTLS dance (RFC 6120 §5.4) just far enough for a TLS client. */
async function startTlsServer(tls: ServerTlsOptions, accepted: Connection[]) {
  return await new DenoNet().listen({ hostname: "127.0.0.1", port: 0 }, (conn) => {
    accepted.push(conn);
    conn.onData(async (chunk) => {
      const text = new TextDecoder().decode(chunk);
      if (text.includes("<stream:stream")) {
        conn.write(
          "<?xml version='1.0'?><stream:stream xmlns='jabber:client' " +
            "xmlns:stream='http://etherx.jabber.org/streams' from='localhost' id='s1' " +
            "version='1.0'><stream:features><starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'>" +
            "<required/></starttls></stream:features>",
        );
      } else if (text.includes("<starttls")) {
        conn.pause();
        conn.write("<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
        try {
          await conn.startTlsServer(tls);
          conn.resume();
        } catch {
          // The client gave up on the handshake; the close event follows.
        }
      } else {
        conn.write(`echo:${text}`);
      }
    });
  });
}

Deno.test("DenoNet STARTTLS serves Deno.startTls clients", async () => {
  const certs = testCertificates();
  const accepted: Connection[] = [];
  const listener = await startTlsServer({ default: certs.localhost }, accepted);
  try {
    const plain = await Deno.connect({ hostname: "127.0.0.1", port: listener.address.port });
    await plain.write(
      new TextEncoder().encode("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"),
    );
    const buffer = new Uint8Array(1024);
    const n = await plain.read(buffer);
    assert.match(new TextDecoder().decode(buffer.subarray(0, n ?? 0)), /^<proceed/);
    const secure = await Deno.startTls(plain, { hostname: "localhost", caCerts: [certs.ca] });
    await secure.write(new TextEncoder().encode("<presence/>"));
    const m = await secure.read(buffer);
    assert.equal(new TextDecoder().decode(buffer.subarray(0, m ?? 0)), "echo:<presence/>");
    assert.equal(accepted[0].secure, true);
    assert.equal(accepted[0].tls?.serverName, "localhost");
    const closed = new Promise((resolve) => accepted[0].onClose(resolve));
    secure.close();
    await closed;
  } finally {
    await listener.close();
  }
});

/** Whether `openssl` can be run here (the s_client interop test needs it). */
function hasOpenssl(): boolean {
  try {
    return new Deno.Command("openssl", { args: ["version"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

Deno.test({
  name: "DenoNet STARTTLS completes with openssl s_client -starttls xmpp",
  ignore: !hasOpenssl(),
}, async () => {
  const certs = testCertificates();
  const dir = await Deno.makeTempDir({ prefix: "jabberd_tls_" });
  const accepted: Connection[] = [];
  const listener = await startTlsServer({ default: certs.localhost }, accepted);
  try {
    await Deno.writeTextFile(`${dir}/ca.pem`, certs.ca);
    const output = await new Deno.Command("openssl", {
      args: [
        "s_client",
        "-connect",
        `127.0.0.1:${listener.address.port}`,
        "-starttls",
        "xmpp",
        "-xmpphost",
        "localhost",
        "-servername",
        "localhost",
        "-CAfile",
        `${dir}/ca.pem`,
        "-verify_return_error",
        "-brief",
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      signal: AbortSignal.timeout(20_000),
    }).output();
    const text = new TextDecoder().decode(output.stderr) + new TextDecoder().decode(output.stdout);
    assert.match(text, /Verification: OK/);
    assert.match(text, /Protocol version: TLSv1\.[23]/);
    assert.equal(accepted[0].tls?.serverName, "localhost");
  } finally {
    await listener.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("DenoNet startTlsClient() rejects a server certificate it cannot trust", async () => {
  const certs = testCertificates();
  const accepted: Connection[] = [];
  const listener = await startTlsServer({ default: certs.localhost }, accepted);
  try {
    const conn = await new DenoNet().connect({
      hostname: "127.0.0.1",
      port: listener.address.port,
    });
    const closed = new Promise<Error | undefined>((resolve) => conn.onClose(resolve));
    const proceed = Promise.withResolvers<void>();
    conn.onData(() => proceed.resolve());
    conn.write("<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>");
    await proceed.promise;
    // No caCerts: the test CA is unknown.
    await assert.rejects(conn.startTlsClient({ serverName: "localhost" }));
    assert.equal(conn.secure, false);
    assert.ok(await closed);
  } finally {
    await listener.close();
  }
});

Deno.test("DenoNet startTlsServer() rejects with the TLS alert of a client that distrusts it", async () => {
  const certs = testCertificates();
  const failure = Promise.withResolvers<unknown>();
  const listener = await new DenoNet().listen({ hostname: "127.0.0.1", port: 0 }, (conn) => {
    conn.onData(() => {
      conn.pause();
      conn.write("<proceed/>");
      conn.startTlsServer({ default: certs.localhost }).then(() => {}, failure.resolve);
    });
  });
  try {
    const plain = await Deno.connect({ hostname: "127.0.0.1", port: listener.address.port });
    await plain.write(new TextEncoder().encode("<starttls/>"));
    await plain.read(new Uint8Array(64));
    // No caCerts: the client does not know the test CA and answers with an unknown_ca alert.
    await assert.rejects(
      Deno.startTls(plain, { hostname: "localhost" }).then((tls) => {
        const handshake = tls.handshake();
        return handshake.finally(() => tls.close());
      }),
    );
    const error = await failure.promise;
    assert.ok(error instanceof Error, `rejected with ${String(error)}`);
    assert.match(error.message, /UnknownCA/);
  } finally {
    await listener.close();
  }
});

Deno.test("DenoNet listener close() stops accepting but keeps open connections", async () => {
  const net = new DenoNet();
  const listener = await net.listen({ hostname: "127.0.0.1", port: 0 }, (conn) => {
    conn.onData((chunk) => conn.write(chunk));
  });
  const conn = await net.connect({ hostname: "127.0.0.1", port: listener.address.port });
  await listener.close();
  const received = new Received(conn);
  conn.write("still here");
  assert.equal(await received.wait((t) => t === "still here"), "still here");
  await assert.rejects(net.connect({ hostname: "127.0.0.1", port: listener.address.port }));
  conn.close();
  await received.closed;
});

Deno.test("DenoNet listens on :: and reports the port it got", async () => {
  const net = new DenoNet();
  const listener = await net.listen({ hostname: "::", port: 0 }, (conn) => conn.close());
  try {
    assert.ok(listener.address.port > 0);
    const conn = await net.connect({ hostname: "::1", port: listener.address.port });
    await new Promise((resolve) => conn.onClose(resolve));
  } finally {
    await listener.close();
  }
});

Deno.test("DenoNet writes of one turn go out as one socket write per connection, in order", async () => {
  const net = new DenoNet();
  const accepted: Connection[] = [];
  const listener = await net.listen({ hostname: "127.0.0.1", port: 0 }, (conn) => {
    accepted.push(conn);
  });
  const { Socket } = await import("node:net");
  const original = Socket.prototype.write;
  const writes = new Map<unknown, number>();
  // Counts the node:net writes each server-side socket makes (the syscalls the batching saves).
  Socket.prototype.write = function (this: unknown, ...args: unknown[]) {
    writes.set(this, (writes.get(this) ?? 0) + 1);
    return (original as (...a: unknown[]) => boolean).apply(this, args);
  } as typeof original;
  const clients: Deno.TcpConn[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      clients.push(await Deno.connect({ hostname: "127.0.0.1", port: listener.address.port }));
    }
    for (let tries = 0; accepted.length < 2 && tries < 100; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(accepted.length, 2);
    writes.clear();
    // One turn: text to both, bytes in the middle of the second one's.
    accepted[0].write("<a/>");
    accepted[1].write("<b/>");
    accepted[0].write("<c/>");
    accepted[1].write(new TextEncoder().encode("<é/>"));
    accepted[1].write("<d/>");
    accepted[0].write("<e/>");
    const expected = ["<a/><c/><e/>", "<b/><é/><d/>"];
    for (let i = 0; i < 2; i++) {
      const want = new TextEncoder().encode(expected[i]).length;
      const got: Uint8Array[] = [];
      let length = 0;
      const buffer = new Uint8Array(256);
      while (length < want) {
        const n = await clients[i].read(buffer);
        if (n === null) break;
        got.push(buffer.slice(0, n));
        length += n;
      }
      const text = new TextDecoder().decode(
        got.reduce((all, part) => new Uint8Array([...all, ...part]), new Uint8Array()),
      );
      assert.equal(text, expected[i]);
    }
    assert.deepEqual([...writes.values()], [1, 1]);
  } finally {
    Socket.prototype.write = original;
    for (const client of clients) client.close();
    for (const conn of accepted) conn.close();
    await listener.close();
  }
});

Deno.test("DenoNet a connection whose socket write throws is closed, and the others of the turn still get theirs", async () => {
  const net = new DenoNet();
  const accepted: Connection[] = [];
  const listener = await net.listen({ hostname: "127.0.0.1", port: 0 }, (conn) => {
    accepted.push(conn);
  });
  const { Socket } = await import("node:net");
  const original = Socket.prototype.write;
  const clients: Deno.TcpConn[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      clients.push(await Deno.connect({ hostname: "127.0.0.1", port: listener.address.port }));
    }
    for (let tries = 0; accepted.length < 2 && tries < 100; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(accepted.length, 2);
    const closed = new Promise<Error | undefined>((resolve) => accepted[0].onClose(resolve));
    let first: unknown;
    Socket.prototype.write = function (this: unknown, ...args: unknown[]) {
      first ??= this;
      if (this === first) throw new Error("refused by the test");
      return (original as (...a: unknown[]) => boolean).apply(this, args);
    } as typeof original;
    accepted[0].write("<lost/>");
    accepted[1].write("<kept/>");
    const buffer = new Uint8Array(64);
    const n = await clients[1].read(buffer);
    assert.equal(new TextDecoder().decode(buffer.subarray(0, n ?? 0)), "<kept/>");
    assert.equal((await closed)?.message, "refused by the test");
  } finally {
    Socket.prototype.write = original;
    for (const client of clients) client.close();
    for (const conn of accepted) conn.close();
    await listener.close();
  }
});
