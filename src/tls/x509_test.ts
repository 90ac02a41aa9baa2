import assert from "node:assert/strict";
import { pemToDer } from "../adapters/tls_select.ts";
import { endPointHash, makeCertificates, serverEndPoint } from "./x509.ts";

Deno.test("makeCertificates() makes a CA and a leaf whose TLS handshake a rustls client accepts", async () => {
  const made = await makeCertificates(["localhost", "example.test"]);
  assert.match(made.key, /^-----BEGIN PRIVATE KEY-----/);
  const listener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: made.cert,
    key: made.key,
  });
  try {
    const accepted = (async () => {
      const conn = await listener.accept();
      await conn.handshake();
      await conn.write(new TextEncoder().encode("ok"));
      conn.close();
    })();
    const tcp = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
    const client = await Deno.startTls(tcp, { hostname: "example.test", caCerts: [made.ca] });
    const buf = new Uint8Array(2);
    const n = await client.read(buf);
    assert.equal(new TextDecoder().decode(buf.subarray(0, n ?? 0)), "ok");
    client.close();
    await accepted;
  } finally {
    listener.close();
  }
});

Deno.test("endPointHash() is SHA-256 for an ECDSA-with-SHA-256 certificate", async () => {
  const made = await makeCertificates(["localhost"]);
  const der = pemToDer(made.cert);
  assert.equal(endPointHash(der), "SHA-256");
  const expected = new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(der)));
  assert.deepEqual(await serverEndPoint(der), expected);
  assert.equal(endPointHash(new Uint8Array([1, 2, 3])), undefined);
});
