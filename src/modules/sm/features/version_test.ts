import assert from "node:assert/strict";
import { NAME, VERSION } from "../../../version.ts";
import { smWorld } from "../_testing.ts";
import { version } from "./version.ts";

Deno.test("version answers an iq to the host with name and version, without os", async () => {
  const world = await smWorld({ features: [version] });
  try {
    const alice = world.bind("alice@localhost/phone");
    await world.send(
      `<iq type="get" id="v1" to="localhost"><query xmlns="jabber:iq:version"/></iq>`,
      alice,
    );
    const [reply] = world.take(alice);
    assert.equal(reply.attrs.type, "result");
    assert.equal(reply.attrs.id, "v1");
    const query = reply.getChild("query", "jabber:iq:version")!;
    assert.equal(query.getChildText("name"), NAME);
    assert.equal(query.getChildText("version"), VERSION);
    assert.equal(query.getChild("os"), undefined);
  } finally {
    await world.stop();
  }
});

Deno.test("version reports the os named in the config", async () => {
  const world = await smWorld({ features: [version], config: `<version os="Debian"/>` });
  try {
    await world.send(
      `<iq type="get" id="v2" from="bob@example.org/x" to="localhost"><query xmlns="jabber:iq:version"/></iq>`,
    );
    const [reply] = world.remote;
    assert.equal(reply.attrs.to, "bob@example.org/x");
    assert.equal(reply.getChild("query")!.getChildText("os"), "Debian");
  } finally {
    await world.stop();
  }
});
