import assert from "node:assert/strict";
import { JID } from "../../../util/jid.ts";
import { blocking, candidates } from "./blocking.ts";
import { smWorld } from "../_testing.ts";

const B = "urn:xmpp:blocking";

Deno.test("blocking blocks, lists, pushes to interested resources, and unblocks", async () => {
  const world = await smWorld({ features: [blocking] });
  try {
    const phone = world.bind("alice@localhost/phone");
    const pc = world.bind("alice@localhost/pc");
    const tab = world.bind("alice@localhost/tab");
    await world.send(`<iq type="get" id="l0"><blocklist xmlns="${B}"/></iq>`, pc);
    assert.equal(world.take(pc)[0].getChild("blocklist")!.elements.length, 0);
    await world.send(
      `<iq type="set" id="b1"><block xmlns="${B}"><item jid="spam@example.org"/><item jid="evil.example"/></block></iq>`,
      phone,
    );
    assert.equal(world.take(phone)[0].attrs.type, "result");
    const [push] = world.take(pc);
    assert.equal(push.attrs.type, "set");
    assert.equal(push.getChild("block", B)!.getChildren("item").length, 2);
    assert.equal(world.take(tab).length, 0, "tab never asked for the blocklist");
    await world.send(`<iq type="get" id="l1"><blocklist xmlns="${B}"/></iq>`, tab);
    const items = world.take(tab)[0].getChild("blocklist")!.getChildren("item");
    assert.deepEqual(items.map((i) => i.attrs.jid).sort(), ["evil.example", "spam@example.org"]);
    await world.send(`<iq type="set" id="u1"><unblock xmlns="${B}"/></iq>`, phone);
    assert.equal(world.take(pc)[0].getChild("unblock", B)!.elements.length, 0);
    assert.equal(
      world.api.fire("is-blocked", { user: "alice@localhost", jid: "spam@example.org" }),
      undefined,
    );
  } finally {
    await world.stop();
  }
});

Deno.test("blocking drops inbound stanzas and refuses outbound ones with <blocked/>", async () => {
  const world = await smWorld({ features: [blocking] });
  try {
    const alice = world.bind("alice@localhost/phone");
    await world.send(
      `<iq type="set" id="b1"><block xmlns="${B}"><item jid="spam@example.org"/></block></iq>`,
      alice,
    );
    world.take(alice);
    await world.send(
      `<message from="spam@example.org/bot" to="alice@localhost/phone"><body>buy</body></message>`,
    );
    await world.send(`<presence from="spam@example.org/bot" to="alice@localhost/phone"/>`);
    await world.send(
      `<message from="friend@example.org/x" to="alice@localhost/phone"><body>hi</body></message>`,
    );
    const got = world.take(alice);
    assert.deepEqual(got.map((s) => s.attrs.from), ["friend@example.org/x"]);
    assert.deepEqual(
      world.remote.map((s) => [s.attrs.to, s.getChild("error")?.elements[0].local]),
      [
        ["spam@example.org/bot", "service-unavailable"],
      ],
    );
    await world.send(
      `<message to="spam@example.org" type="chat"><body>stop</body></message>`,
      alice,
    );
    const [refused] = world.take(alice);
    const error = refused.getChild("error")!;
    assert.equal(error.elements[0].local, "not-acceptable");
    assert.ok(error.getChild("blocked", "urn:xmpp:blocking:errors"));
    assert.equal(world.remote.length, 1, "nothing routed to the blocked JID");
    assert.equal(
      world.api.fire("is-blocked", { user: "alice@localhost", jid: "spam@example.org/x" }),
      true,
    );
  } finally {
    await world.stop();
  }
});

Deno.test("blocking reads the list of a user without sessions before delivering", async () => {
  const world = await smWorld({ features: [blocking] });
  try {
    const alice = world.bind("alice@localhost/phone");
    await world.send(
      `<iq type="set" id="b1"><block xmlns="${B}"><item jid="example.org"/></block></iq>`,
      alice,
    );
    world.unbind(alice);
    await world.addUser("alice@localhost");
    const delivered: string[] = [];
    // After blocking (500), before the core's delivery (-1).
    world.api.hook("message/bare", ({ stanza }: { stanza: { attrs: { from?: string } } }) => {
      delivered.push(stanza.attrs.from ?? "");
      return true;
    }, 0);
    await world.send(
      `<message from="x@example.org/r" to="alice@localhost"><body>1</body></message>`,
    );
    await world.send(
      `<message from="y@example.net/r" to="alice@localhost"><body>2</body></message>`,
    );
    assert.deepEqual(delivered, ["y@example.net/r"]);
  } finally {
    await world.stop();
  }
});

Deno.test("candidates() lists full, bare, domain/resource and domain", () => {
  assert.deepEqual(candidates(JID.parse("a@b.example/c")), [
    "a@b.example/c",
    "a@b.example",
    "b.example/c",
    "b.example",
  ]);
  assert.deepEqual(candidates(JID.parse("b.example")), ["b.example"]);
});
