import assert from "node:assert/strict";
import { MemoryConnection, MemoryNet } from "./net.ts";
import { testCertificates } from "../net_conformance.ts";

Deno.test("MemoryNet refuses connections with a ConnectionRefused error", async () => {
  await assert.rejects(new MemoryNet().connect({ hostname: "127.0.0.1", port: 5222 }), {
    name: "ConnectionRefused",
  });
});

Deno.test("MemoryNet refuses a second listener on the same address", async () => {
  const net = new MemoryNet();
  const listener = await net.listen({ hostname: "127.0.0.1", port: 5222 }, () => {});
  await assert.rejects(net.listen({ hostname: "127.0.0.1", port: 5222 }, () => {}), {
    name: "AddrInUse",
  });
  await listener.close();
});

Deno.test("MemoryConnection.destroy() ends both sides with the error", async () => {
  const [client, server] = MemoryConnection.pair(
    { hostname: "127.0.0.1", port: 1 },
    { hostname: "127.0.0.1", port: 2 },
  );
  const closed = Promise.all([
    new Promise((resolve) => client.onClose(resolve)),
    new Promise((resolve) => server.onClose(resolve)),
  ]);
  const reset = new Error("Connection reset by peer");
  client.destroy(reset);
  assert.deepEqual(await closed, [reset, reset]);
});

Deno.test("MemoryConnection TLS simulation needs a client and a server", async () => {
  const { localhost } = testCertificates();
  const [client, server] = MemoryConnection.pair(
    { hostname: "127.0.0.1", port: 1 },
    { hostname: "127.0.0.1", port: 2 },
  );
  const first = server.startTlsServer({ default: localhost });
  const second = client.startTlsServer({ default: localhost });
  await assert.rejects(first, /same role/);
  await assert.rejects(second, /same role/);
  assert.equal(client.secure, false);
});
