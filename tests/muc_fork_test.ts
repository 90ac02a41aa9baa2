/**
 * The MUC service (`src/modules/muc/mod.ts`) in a child process under `<fork>`: the same module,
 * reaching its rooms' storage through its parent's XDB (issue 12: "a section like any other").
 */
import assert from "node:assert/strict";
import { denoAdapters } from "../src/adapters/deno/mod.ts";
import { mucConfig, MucTester, parse, ROOM } from "../src/modules/muc/_testing.ts";
import { testServer } from "../src/server/_testing.ts";
import { NS_MUC, NS_MUC_ROOM } from "../src/util/ns.ts";

const ROOT = new URL("..", import.meta.url).pathname.slice(0, -1);
const ALICE = "alice@localhost/phone";
const BOB = "bob@localhost/laptop";

Deno.test("the MUC module runs in a child process under <fork>, with rooms stored through the parent", async () => {
  const dir = await Deno.makeTempDir({ prefix: "jabberd-muc-fork-" });
  await using _cleanup = { [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
  await using muc = new MucTester(
    await testServer(
      mucConfig(
        "",
        `<fork path="src/modules/muc/mod.ts"><history>1</history></fork>`,
        `${dir}/muc.kv`,
      ),
      { adapters: denoAdapters(), file: `${ROOT}/jabberd.xml` },
    ),
  );
  const deliver = (text: string) => muc.world.router.deliver(parse(text));
  deliver(`<presence from="${ALICE}" to="${ROOM}/Alice"><x xmlns="${NS_MUC}"/></presence>`);
  assert.equal((await muc.wait(ALICE, 2))[1].getChildText("subject"), "");
  deliver(`<iq type="set" id="c" from="${ALICE}" to="${ROOM}">
    <query xmlns="http://jabber.org/protocol/muc#owner"><x xmlns="jabber:x:data" type="submit">
      <field var="muc#roomconfig_persistentroom"><value>1</value></field></x></query></iq>`);
  assert.equal((await muc.wait(ALICE, 1))[0].attrs.type, "result");
  for (const body of ["one", "two"]) {
    deliver(
      `<message from="${ALICE}" to="${ROOM}" type="groupchat"><body>${body}</body></message>`,
    );
  }
  await muc.wait(ALICE, 2);
  deliver(`<presence from="${BOB}" to="${ROOM}/Bob"><x xmlns="${NS_MUC}"/></presence>`);
  const joined = await muc.wait(BOB, 4);
  assert.equal(joined[1].attrs.from, `${ROOM}/Bob`);
  assert.equal(joined[2].getChildText("body"), "two");
  assert.ok(await muc.world.xdb.get(ROOM, NS_MUC_ROOM));
});
