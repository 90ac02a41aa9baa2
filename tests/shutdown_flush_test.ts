/**
 * A clean stop loses no acknowledged or queued storage write: XDB requests already delivered
 * when the server stops are committed to the Deno KV file before it closes.
 */
import assert from "node:assert/strict";
import { denoAdapters } from "../src/adapters/deno/mod.ts";
import { XdbStore } from "../src/modules/xdb/store.ts";
import { Element } from "../src/xml/element.ts";
import { testServer } from "../src/server/_testing.ts";

Deno.test("Server.stop() flushes queued XDB writes to the KV file before closing it", async () => {
  const dir = await Deno.makeTempDir();
  const adapters = denoAdapters();
  const world = await testServer(
    `<jabberd><xdb id="xdb"><host/><kv>${dir}/xdb.kv</kv></xdb></jabberd>`,
    { adapters, file: `${dir}/jabberd.xml` },
  );
  const count = 2000;
  for (let i = 0; i < count; i++) {
    const item = new Element("message", { id: `m${i}` }, [new Element("body", {}, [`${i}`])]);
    world.router.deliver(
      new Element("xdb", {
        type: "set",
        action: "insert",
        to: "alice@example.org",
        from: "nobody-waits",
        ns: "jabber:x:offline",
        id: `${i}`,
      }, [item]),
    );
  }
  await world.stop();

  const kv = await adapters.kv.open(`${dir}/xdb.kv`);
  const store = new XdbStore(kv);
  const stored = await store.get("alice@example.org", "jabber:x:offline");
  assert.equal(stored?.elements.length, count);
  assert.equal(stored?.elements[count - 1].getChildText("body"), `${count - 1}`);
  await store.close();
  await Deno.remove(dir, { recursive: true });
});
