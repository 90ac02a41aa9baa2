// The limits of src/util/limits.ts as c2s applies them to connections (the classes alone are
// tested beside them).
import assert from "node:assert/strict";
import { addUser, c2sWorld, DOMAIN, login, rawClient } from "./_testing.ts";

Deno.test("c2s slows a fast sender: reading pauses when karma runs out and resumes as time passes", async () => {
  // Without TLS required, registration forms answer before login: one reply per stanza read.
  await using world = await c2sWorld(
    `<require-encryption enabled="false"/><limits rate="1KiB" burst="2KiB"/>`,
  );
  const client = await rawClient(world);
  client.open();
  await client.next(/<\/stream:features>/);
  const count = 10;
  const chunk = (i: number) => {
    const iq = `<iq type='get' id='q${i}'><query xmlns='jabber:iq:register'/></iq>`;
    return iq + " ".repeat(1000 - iq.length);
  };
  for (let i = 0; i < count; i++) client.send(chunk(i));
  const answered = () => (client.text.match(/<\/iq>/g) ?? []).length;
  await world.settle();
  const before = answered();
  // The burst (2048 bytes) lets three 1000-byte chunks in (the third overdraws), no more.
  assert.ok(before >= 2 && before <= 3, `answered ${before} before any time passed`);
  // At 1 KiB/s, about one more chunk per second of the clock, and never ahead of the rate.
  let seconds = 0;
  for (; seconds < 20 && answered() < count; seconds++) {
    world.memory.clock.advance(1000);
    await world.settle();
    const allowed = 2048 + 1024 * (seconds + 1) + 1000;
    assert.ok(answered() * 1000 <= allowed, `${answered()} read after ${seconds + 1} s`);
  }
  assert.equal(answered(), count);
  assert.ok(seconds >= 6, `all read after only ${seconds} s`);
  assert.doesNotMatch(client.text, /stream:error/);
});

Deno.test("c2s refuses the connection over connections-per-ip with policy-violation", async () => {
  await using world = await c2sWorld(`<limits connections-per-ip="2"/>`);
  const a = await rawClient(world);
  const b = await rawClient(world);
  const c = await rawClient(world);
  assert.match(await c.next(/<\/stream:stream>/), /<policy-violation /);
  await c.closed();
  // Another address is counted apart.
  const other = await rawClient(world, "127.0.0.2");
  other.open();
  assert.match(await other.next(/<\/stream:features>/), /<stream:features>/);
  // A closed connection frees its place.
  a.conn.close();
  await a.closed();
  await world.settle();
  const d = await rawClient(world);
  d.open();
  assert.match(await d.next(/<\/stream:features>/), /<stream:features>/);
  b.open();
  assert.match(await b.next(/<\/stream:features>/), /<stream:features>/);
});

Deno.test("c2s closes a stream not authenticated within auth-timeout, and not before", async () => {
  await using world = await c2sWorld(`<limits auth-timeout="10s"/>`);
  const client = await rawClient(world);
  client.open();
  await client.next(/<\/stream:features>/);
  world.memory.clock.advance(9_999);
  await world.settle();
  assert.doesNotMatch(client.text, /stream:error/);
  world.memory.clock.advance(1);
  assert.match(await client.next(/<\/stream:stream>/), /<connection-timeout /);
  await client.closed();
});

Deno.test("c2s writes a whitespace keepalive after keepalive of silence", async () => {
  await using world = await c2sWorld(
    `<limits keepalive="20s" idle-timeout="10m" auth-timeout="1h"/>`,
  );
  const client = await rawClient(world);
  client.open();
  await client.next(/<\/stream:features>/);
  const length = client.text.length;
  world.memory.clock.advance(19_000);
  await world.settle();
  assert.equal(client.text.length, length);
  world.memory.clock.advance(1_000);
  await world.settle();
  assert.equal(client.text.slice(length), " ");
});

Deno.test("c2s keeps a bound stream whose client answers keepalives, and times out a silent one", async () => {
  await using world = await c2sWorld(`<limits keepalive="30s" idle-timeout="1m"/>`);
  await addUser(world, "alice");
  const talker = await login(world, "alice", "a");
  const silent = await login(world, "alice", "b");
  for (let i = 0; i < 6; i++) {
    world.memory.clock.advance(15_000);
    talker.send(" ");
    await world.settle();
  }
  assert.match(await silent.next(/<\/stream:stream>/), /<connection-timeout /);
  assert.doesNotMatch(talker.text, /stream:error/);
  talker.send(`<message to='bob@${DOMAIN}' id='x'/>`);
  assert.match(await talker.next(/<message[^>]*id=.x.[^>]*\/>/), /from=.alice@localhost\/a./);
});

Deno.test("c2s refuses a size bomb as soon as the stanza limit is read, whatever the karma", async (t) => {
  // Default limits: stanza-size 256 KiB, rate 16 KiB/s, burst 64 KiB. The memory clock stands
  // still, so a karma pause would hold a bomb back for good: the stream error must come from the
  // bytes the client sent before the limit and one chunk more.
  const limit = 256 * 1024;
  const chunk = 4096;
  const open = "<stream:stream xmlns='jabber:client' " +
    "xmlns:stream='http://etherx.jabber.org/streams' to='localhost' version='1.0'";
  const repeat = (unit: (k: number) => string, count: number) =>
    Array.from({ length: count }, (_, k) => unit(k)).join("");
  const bombs: { name: string; header: string; bomb: string; drained?: boolean }[] = [
    { name: "a 2 MiB attribute", header: open + ">", bomb: `<message a='${"x".repeat(2 << 20)}` },
    { name: "a 2 MiB text run", header: open + ">", bomb: `<message><body>${"x".repeat(2 << 20)}` },
    {
      name: "10^5 attributes in the stream header",
      header: "",
      bomb: open + repeat((k) => ` a${k}='x'`, 100_000),
    },
    {
      name: "10^5 namespace declarations in a start tag",
      header: open + ">",
      bomb: "<message" + repeat((k) => ` xmlns:p${k}='urn:x'`, 100_000),
    },
    {
      name: "a 2 MiB attribute after the karma ran dry",
      header: open + ">" + " ".repeat(80 * 1024),
      bomb: `<message a='${"x".repeat(2 << 20)}`,
      drained: true,
    },
  ];
  for (const { name, header, bomb, drained } of bombs) {
    await t.step(name, async () => {
      await using world = await c2sWorld();
      const client = await rawClient(world);
      if (header) client.send(header);
      await world.settle();
      if (drained) {
        // The keepalive flood emptied the bucket: the pause it earned is served first.
        world.memory.clock.advance(5_000);
        await world.settle();
      }
      let sent = 0;
      while (sent < bomb.length && !client.text.includes("</stream:stream>")) {
        client.send(bomb.slice(sent, sent + chunk));
        sent += chunk;
        await world.settle(1);
      }
      assert.match(client.text, /<policy-violation .*<\/stream:stream>$/);
      assert.ok(sent <= limit + chunk, `refused after ${sent} bytes of the bomb`);
      await client.closed();
    });
  }
});
