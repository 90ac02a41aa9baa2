// The certificates c2s presents: the default CA + leaf made at first start, and reloading.
import assert from "node:assert/strict";
import { MemoryFiles } from "../adapters/memory/mod.ts";
import { pemToDer } from "../adapters/tls_select.ts";
import { CONFIG_RELOADED } from "../server/module_api.ts";
import { TLS_FIXTURES } from "../server/_testing.ts";
import { CertificateStore, DEFAULT_CERT_DIR } from "./certificates.ts";
import { c2sWorld, DOMAIN, rawClient, sectionOf } from "../modules/c2s/_testing.ts";

Deno.test("CertificateStore.load() makes a CA and leaf at first start that a rustls client accepts", async () => {
  const files = new MemoryFiles();
  const options = {
    files,
    resolvePath: (path: string) => `/srv/jabberd/${path}`,
    configured: [],
    domains: ["localhost", "example.test"],
  };
  const tls = await new CertificateStore(options).load();
  const dir = `/srv/jabberd/${DEFAULT_CERT_DIR}`;
  const ca = await files.readTextFile(`${dir}/ca.pem`);
  assert.equal(tls.default.cert, await files.readTextFile(`${dir}/server.pem`));
  assert.equal(tls.default.key, await files.readTextFile(`${dir}/server.key`));
  // A second start reuses the files instead of making new ones.
  const again = await new CertificateStore(options).load();
  assert.equal(again.default.cert, tls.default.cert);

  const listener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: tls.default.cert,
    key: tls.default.key,
  });
  try {
    const served = (async () => {
      const conn = await listener.accept();
      await conn.handshake();
      await conn.write(new TextEncoder().encode("ok"));
      conn.close();
    })();
    const tcp = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
    // The leaf names every configured domain, so the second one verifies too.
    const client = await Deno.startTls(tcp, { hostname: "example.test", caCerts: [ca] });
    const buf = new Uint8Array(2);
    const n = await client.read(buf);
    assert.equal(new TextDecoder().decode(buf.subarray(0, n ?? 0)), "ok");
    client.close();
    await served;
  } finally {
    listener.close();
  }
});

Deno.test("c2s reloads its certificates on CONFIG_RELOADED for STARTTLS and direct TLS", async () => {
  await using world = await c2sWorld(`<listen port="0" address="127.0.0.1" tls="direct"/>`);
  const [cert, key] = [`${TLS_FIXTURES}localhost.pem`, `${TLS_FIXTURES}localhost.key`];
  const localhost = pemToDer(world.certs.localhost.cert);
  const wildcard = pemToDer(world.certs.wildcard.cert);
  const seen = async () => {
    const client = await rawClient(world);
    await client.starttls();
    const direct = await world.connect("c2s-tls", {
      tls: { serverName: DOMAIN, caCerts: [world.certs.ca] },
    });
    const certs = [client.conn.tls?.peerCertificate, direct.tls?.peerCertificate];
    client.conn.close();
    direct.close();
    return certs;
  };
  assert.deepEqual(await seen(), [localhost, localhost]);
  await world.memory.files.writeTextFile(cert, world.certs.wildcard.cert);
  await world.memory.files.writeTextFile(key, world.certs.wildcard.key);
  assert.deepEqual(await seen(), [localhost, localhost]); // nothing changes before the event
  sectionOf(world).notify(CONFIG_RELOADED);
  await world.settle();
  assert.deepEqual(await seen(), [wildcard, wildcard]);
  // A file that cannot be read on reload keeps the certificates in use.
  await world.memory.files.rename(key, `${key}.gone`);
  sectionOf(world).notify(CONFIG_RELOADED);
  await world.settle();
  assert.deepEqual(await seen(), [wildcard, wildcard]);
});

Deno.test("CertificateStore.load() writes the key it made readable by its owner only (mode 0600)", async () => {
  const { denoAdapters } = await import("../adapters/deno/mod.ts");
  const dir = await Deno.makeTempDir();
  try {
    await new CertificateStore({
      files: denoAdapters().files,
      resolvePath: (path: string) => `${dir}/${path}`,
      configured: [],
      domains: ["localhost"],
    }).load();
    const key = await Deno.stat(`${dir}/${DEFAULT_CERT_DIR}/server.key`);
    assert.equal((key.mode ?? 0) & 0o777, 0o600);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
