import assert from "node:assert/strict";
import { accountExists, createAccount, getCredentials } from "../../../accounts/store.ts";
import { register } from "./register.ts";
import { smWorld } from "../_testing.ts";

const R = "jabber:iq:register";

Deno.test("register changes the password and refuses someone else's username", async () => {
  const world = await smWorld({ features: [register] });
  try {
    await createAccount(world.api.xdb, "alice@localhost", "old", { iterations: 1 });
    const before = await getCredentials(world.api.xdb, "alice@localhost");
    const alice = world.bind("alice@localhost/phone");
    await world.send(`<iq type="get" id="f"><query xmlns="${R}"/></iq>`, alice);
    const form = world.take(alice)[0].getChild("query", R)!;
    assert.ok(form.getChild("registered"));
    assert.equal(form.getChildText("username"), "alice");
    await world.send(
      `<iq type="set" id="p" to="localhost"><query xmlns="${R}"><username>alice</username><password>new</password></query></iq>`,
      alice,
    );
    assert.equal(world.take(alice)[0].attrs.type, "result");
    assert.notDeepEqual(await getCredentials(world.api.xdb, "alice@localhost"), before);
    await world.send(
      `<iq type="set" id="q"><query xmlns="${R}"><username>bob</username><password>x</password></query></iq>`,
      alice,
    );
    assert.equal(world.take(alice)[0].getChild("error")!.elements[0].local, "bad-request");
  } finally {
    await world.stop();
  }
});

Deno.test("register removes the account and ends all the user's sessions", async () => {
  const world = await smWorld({ features: [register] });
  try {
    await createAccount(world.api.xdb, "alice@localhost", "pw", { iterations: 1 });
    const phone = world.bind("alice@localhost/phone");
    const pc = world.bind("alice@localhost/pc");
    const deleted: string[] = [];
    world.api.hook("user-deleted", ({ jid }: { jid: object }) => void deleted.push(String(jid)));
    await world.send(`<iq type="set" id="rm"><query xmlns="${R}"><remove/></query></iq>`, phone);
    assert.equal(world.take(phone)[0].attrs.type, "result");
    assert.equal(await accountExists(world.api.xdb, "alice@localhost"), false);
    assert.deepEqual(world.ended.map((e) => [e.session, e.reason]), [
      [phone, "account-removed"],
      [pc, "account-removed"],
    ]);
    assert.deepEqual(deleted, ["alice@localhost"]);
  } finally {
    await world.stop();
  }
});
