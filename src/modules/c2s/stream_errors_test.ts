// The RFC 6120 §4.9.3 stream errors c2s sends, seen over a raw client on the memory net.
import assert from "node:assert/strict";
import { addUser, type C2sWorld, c2sWorld, DOMAIN, login, rawClient } from "./_testing.ts";

const streamError = (condition: string) =>
  new RegExp(
    `<stream:error><${condition} xmlns=.urn:ietf:params:xml:ns:xmpp-streams.\\/>.*</stream:stream>`,
  );

/** Opens a stream, reads the features, sends `text`, and returns everything up to the close. */
async function afterFeatures(world: C2sWorld, text: string | Uint8Array): Promise<string> {
  const client = await rawClient(world);
  client.open();
  await client.next(/<\/stream:features>/);
  client.conn.write(text);
  const answer = await client.next(/<\/stream:stream>/);
  await client.closed();
  return answer;
}

/** Runs `body` on a fresh `c2sWorld(extra)`, stopped afterwards. */
async function withWorld(body: (world: C2sWorld) => Promise<void>, extra = "") {
  await using world = await c2sWorld(extra);
  await body(world);
}

Deno.test("c2s answers a stream in another default namespace with invalid-namespace", async () => {
  await withWorld(async (world) => {
    const client = await rawClient(world);
    client.send(
      `<stream:stream xmlns='jabber:server' xmlns:stream='http://etherx.jabber.org/streams' to='${DOMAIN}' version='1.0'>`,
    );
    const answer = await client.next(/<\/stream:stream>/);
    assert.match(answer, /^<\?xml version='1.0'\?><stream:stream /);
    assert.match(answer, streamError("invalid-namespace"));
    await client.closed();
  });
});

Deno.test("c2s answers a root element outside the streams namespace with invalid-namespace", async () => {
  await withWorld(async (world) => {
    const client = await rawClient(world);
    client.send(
      `<stream:stream xmlns='jabber:client' xmlns:stream='urn:example:wrong' to='${DOMAIN}' version='1.0'>`,
    );
    assert.match(await client.next(/<\/stream:stream>/), streamError("invalid-namespace"));
    await client.closed();
  });
});

Deno.test("c2s answers broken XML with not-well-formed", async () => {
  await withWorld(async (world) => {
    const answer = await afterFeatures(world, "<message><body>x</message>");
    assert.match(answer, streamError("not-well-formed"));
  });
});

Deno.test("c2s answers broken XML before any stream header with its header and not-well-formed", async () => {
  await withWorld(async (world) => {
    const client = await rawClient(world);
    client.send("<<>");
    const answer = await client.next(/<\/stream:stream>/);
    assert.match(answer, /^<\?xml version='1.0'\?><stream:stream /);
    assert.match(answer, streamError("not-well-formed"));
  });
});

Deno.test("c2s answers a comment, a PI, a DTD and an entity with restricted-xml", async (t) => {
  const cases: [string, string][] = [
    ["a comment", "<!-- hello -->"],
    ["a processing instruction", "<?php echo 1; ?>"],
    ["a DTD", "<!DOCTYPE foo [<!ENTITY x 'y'>]>"],
    ["an entity", "<message to='bob@localhost'><body>&x;</body></message>"],
  ];
  for (const [name, text] of cases) {
    await t.step(name, async () => {
      await withWorld(async (world) => {
        assert.match(await afterFeatures(world, text), streamError("restricted-xml"));
      });
    });
  }
});

Deno.test("c2s answers bytes that are not UTF-8 with unsupported-encoding", async () => {
  await withWorld(async (world) => {
    const bytes = new Uint8Array([0x3c, 0x6d, 0xff, 0xfe, 0x3e]); // "<m" then two invalid bytes
    assert.match(await afterFeatures(world, bytes), streamError("unsupported-encoding"));
  });
});

Deno.test("c2s answers a stanza over the size limit with policy-violation", async () => {
  await withWorld(async (world) => {
    const big = `<message to='bob@localhost'><body>${"x".repeat(2000)}</body></message>`;
    assert.match(await afterFeatures(world, big), streamError("policy-violation"));
  }, `<limits stanza-size="1KiB"/>`);
});

Deno.test("c2s closes an idle bound stream with connection-timeout", async () => {
  await withWorld(async (world) => {
    await addUser(world, "alice");
    const client = await login(world, "alice", "phone");
    world.memory.clock.advance(60_000);
    assert.match(await client.next(/ /), /^ $/); // a whitespace keepalive, not yet a timeout
    world.memory.clock.advance(60_000);
    assert.match(await client.next(/<\/stream:stream>/), streamError("connection-timeout"));
    await client.closed();
  }, `<limits idle-timeout="2m" keepalive="1m"/>`);
});

Deno.test("c2s closes the older stream with conflict when a new login takes its resource", async () => {
  await withWorld(async (world) => {
    await addUser(world, "alice");
    const first = await login(world, "alice", "phone");
    const second = await login(world, "alice", "phone");
    assert.match(await first.next(/<\/stream:stream>/), streamError("conflict"));
    await first.closed();
    // The new session lives on and still reaches the sm.
    second.send("<message to='bob@localhost' id='m1'><body>hi</body></message>");
    assert.match(await second.next(/<\/message>/), /from=.alice@localhost\/phone./);
    // The replaced connection did not end the new session: c2s sent no route error for it.
    const ends = world.routes.filter((r) => r.attrs.type === "error");
    assert.equal(ends.length, 0, ends.map(String).join("\n"));
  });
});

Deno.test("c2s answers a stanza with someone else's from with invalid-from", async () => {
  await withWorld(async (world) => {
    await addUser(world, "alice");
    const client = await login(world, "alice", "phone");
    client.send("<message to='bob@localhost' from='mallory@localhost/x'><body>x</body></message>");
    assert.match(await client.next(/<\/stream:stream>/), streamError("invalid-from"));
    await client.closed();
  });
});

Deno.test("c2s accepts a from of the client's own bare or full JID", async () => {
  await withWorld(async (world) => {
    await addUser(world, "alice");
    const client = await login(world, "alice", "phone");
    client.send("<message to='bob@localhost' from='alice@localhost' id='a'/>");
    client.send("<message to='bob@localhost' from='alice@localhost/phone' id='b'/>");
    const echoed = await client.next(/<message[^>]*id=.b.[^>]*\/>/);
    assert.match(echoed, /id=.a./);
    assert.doesNotMatch(echoed, /stream:error/);
  });
});

Deno.test("c2s sends system-shutdown to a bound stream when its section stops", async () => {
  const world = await c2sWorld();
  await addUser(world, "alice");
  const client = await login(world, "alice", "phone");
  await world.stop();
  assert.match(await client.next(/<\/stream:stream>/), streamError("system-shutdown"));
  await client.closed();
});

Deno.test("c2s answers a second stream header inside an open stream with invalid-xml", async (t) => {
  const header =
    `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' to='${DOMAIN}' version='1.0'>`;
  await t.step("before authentication", async () => {
    await withWorld(async (world) => {
      const client = await rawClient(world);
      client.open();
      await client.next(/<\/stream:features>/);
      client.send(header);
      await world.settle();
      assert.match(client.text, streamError("invalid-xml"));
      await client.closed();
    });
  });
  await t.step("on a bound stream", async () => {
    await withWorld(async (world) => {
      await addUser(world, "alice");
      const client = await login(world, "alice", "phone");
      client.send(header);
      await world.settle();
      assert.match(client.text, streamError("invalid-xml"));
      await client.closed();
    });
  });
});
