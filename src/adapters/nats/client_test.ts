/**
 * The NATS adapter against a real nats-server (docs/farm.md): requests see "no responders" at
 * once, queue groups take one-of-N, and KV create/update/delete are compare-and-set.
 */
import assert from "node:assert/strict";
import { NatsClientAdapter } from "./client.ts";
import { startNats } from "./_testing.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

Deno.test("NatsClientAdapter request answers undefined when nobody listens, and the reply when one does", async () => {
  const server = await startNats();
  if (typeof server === "string") return console.log(`skipped: ${server}`);
  await using _ = server;
  const link = await new NatsClientAdapter().connect({ servers: [server.url] });
  try {
    assert.equal(await link.request("nobody.here", encoder.encode("x"), 5_000), undefined);
    const stop = link.subscribe("echo", (message) => message.respond(message.data));
    const reply = await link.request("echo", encoder.encode("hi"), 5_000);
    assert.equal(decoder.decode(reply), "hi");
    stop();
    // A queue group takes each message once, whichever member.
    const got: string[] = [];
    const a = link.subscribe("work", (m) => got.push("a" + decoder.decode(m.data)), { queue: "q" });
    const b = link.subscribe("work", (m) => got.push("b" + decoder.decode(m.data)), { queue: "q" });
    for (let i = 0; i < 10; i++) link.publish("work", encoder.encode(String(i)));
    const end = Date.now() + 5_000;
    while (got.length < 10 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    assert.equal(got.length, 10);
    a();
    b();
  } finally {
    await link.close();
  }
});

Deno.test("NatsClientAdapter buckets: create is atomic, update and delete check the revision, watch reports changes", async () => {
  const server = await startNats();
  if (typeof server === "string") return console.log(`skipped: ${server}`);
  await using _ = server;
  const link = await new NatsClientAdapter().connect({ servers: [server.url] });
  try {
    const bucket = await link.bucket("test_homes");
    const first = await bucket.create("alice", "n1");
    assert.ok(first);
    assert.equal(await bucket.create("alice", "n2"), undefined);
    assert.equal(await bucket.update("alice", "n2", first + 100), undefined);
    const second = await bucket.update("alice", "n2", first);
    assert.ok(second);
    assert.equal(await bucket.delete("alice", first), false);
    assert.deepEqual(await bucket.get("alice"), { key: "alice", value: "n2", revision: second });
    const changes: (string | undefined)[] = [];
    const watch = await bucket.watch((change) => changes.push(change.value));
    await watch.ready;
    assert.deepEqual(changes, ["n2"]);
    assert.equal(await bucket.delete("alice", second), true);
    assert.equal(await bucket.get("alice"), undefined);
    // Created again after a delete.
    assert.ok(await bucket.create("alice", "n3"));
    const end = Date.now() + 5_000;
    while (changes.length < 3 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(changes, ["n2", undefined, "n3"]);
    watch.stop();
    // An empty bucket's watch is ready at once.
    const empty = await (await link.bucket("test_empty")).watch(() => {});
    await empty.ready;
    empty.stop();
  } finally {
    await link.close();
  }
});

Deno.test("NatsClientAdapter request gives each of many concurrent requests its own reply, undefined after the timeout when nobody replies, and undefined once the link closes", async () => {
  const server = await startNats();
  if (typeof server === "string") return console.log(`skipped: ${server}`);
  await using _ = server;
  const link = await new NatsClientAdapter().connect({ servers: [server.url] });
  const other = await new NatsClientAdapter().connect({ servers: [server.url] });
  try {
    // Replies in reverse order still reach the request they answer.
    const held: { respond(data: Uint8Array): void; data: Uint8Array }[] = [];
    other.subscribe("later", (message) => {
      held.push({ respond: (d) => message.respond(d), data: message.data });
      if (held.length === 20) { for (const m of held.reverse()) m.respond(m.data); }
    });
    other.subscribe("silent", () => {});
    await new Promise((r) => setTimeout(r, 100)); // the subscriptions reach the server
    const asked = Array.from(
      { length: 20 },
      (_, i) => link.request("later", encoder.encode(`q${i}`), 5_000),
    );
    const answers = (await Promise.all(asked)).map((reply) => decoder.decode(reply));
    assert.deepEqual(answers, Array.from({ length: 20 }, (_, i) => `q${i}`));
    assert.equal(await link.request("silent", encoder.encode("x"), 100), undefined);
    const waiting = link.request("silent", encoder.encode("y"), 60_000);
    await link.close();
    assert.equal(await waiting, undefined);
  } finally {
    await link.close();
    await other.close();
  }
});
