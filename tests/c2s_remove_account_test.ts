// XEP-0077 §3.2 `<remove/>` over a whole server: the client reads its iq result before the
// stream ends.
import assert from "node:assert/strict";
import { accountExists } from "../src/accounts/store.ts";
import { testServer } from "../src/server/_testing.ts";
import { addUser, c2sServerConfig, login } from "../src/modules/c2s/_testing.ts";

Deno.test("c2s writes the result of <remove/> before it closes the stream", async () => {
  await using world = await testServer(c2sServerConfig());
  await addUser(world, "alice");
  const alice = await login(world, "alice");
  alice.send(
    "<iq type='set' id='rm'><query xmlns='jabber:iq:register'><remove/></query></iq>",
  );
  const answer = await alice.next(/<\/stream:stream>/);
  const result = answer.search(
    /<iq[^>]*id='rm'[^>]*type='result'|<iq[^>]*type='result'[^>]*id='rm'/,
  );
  assert.notEqual(result, -1, `no iq result before the close: ${answer}`);
  assert.ok(result < answer.indexOf("<stream:error>"), answer);
  assert.match(answer, /<not-authorized xmlns='urn:ietf:params:xml:ns:xmpp-streams'\/>/);
  assert.equal(await accountExists(world.xdb, "alice@localhost"), false);
});
