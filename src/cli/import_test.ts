/**
 * `jabberd import`, `export` and `user` through `runCli` on real files: a temporary config whose
 * XDB is a Deno KV file, the ejabberd and Prosody fixtures made by the real tools.
 */
import assert from "node:assert/strict";
import { denoAdapters } from "../adapters/deno/mod.ts";
import { getCredentials } from "../accounts/store.ts";
import { verifyPlain } from "../accounts/credentials.ts";
import { openStorage } from "./storage.ts";
import { runCaptured } from "./_testing.ts";

const FIXTURES = new URL("../../tests/fixtures/xep0227/", import.meta.url).pathname;

async function world() {
  const dir = await Deno.makeTempDir({ prefix: "jabberd-import-" });
  const config = `${dir}/jabberd.xml`;
  await Deno.writeTextFile(
    config,
    `<jabberd>
  <service id="sessions"><host>example.org</host><host>plain.example</host>
    <c2s xmlns="jabberd:config:c2s"><domain>example.org</domain><scram iterations="4096"/></c2s>
  </service>
  <xdb id="xdb"><host/><kv>./data/jabberd.kv</kv></xdb>
  <log id="elogger"><host/><logtype>error</logtype><stderr/></log>
</jabberd>`,
  );
  const run = (args: string[], stdin?: string) => runCaptured([...args, "-c", config], stdin);
  /** Opens the storage the commands use, runs `check`, and stops it. */
  const inspect = async <T>(check: Parameters<typeof withStorage<T>>[1]) =>
    await withStorage(config, check);
  const cleanup = () => Deno.remove(dir, { recursive: true });
  return { dir, config, run, inspect, cleanup };
}

async function withStorage<T>(
  config: string,
  check: (storage: NonNullable<Awaited<ReturnType<typeof openStorage>>>) => Promise<T>,
): Promise<T> {
  const storage = await openStorage(config, { ...denoAdapters(), stderr: () => {} });
  assert.ok(storage);
  try {
    return await check(storage);
  } finally {
    await storage.stop();
  }
}

Deno.test("jabberd import reads ejabberd's and Prosody's files into accounts whose passwords verify", async () => {
  const w = await world();
  try {
    const result = await w.run([
      "import",
      FIXTURES + "ejabberd/20261126-131902.xml",
      FIXTURES + "prosody/alice@example.org.xml",
    ]);
    assert.equal(result.code, 0, result.err);
    assert.match(result.out, /Imported 3 account\(s\)/);
    assert.match(result.err, /alice@example.org already exists; skipped/);
    await w.inspect(async ({ xdb, iterations }) => {
      assert.equal(iterations, 4096);
      const passwords = {
        "alice@example.org": "wonderland-1",
        "bob@example.org": 'b0b&"pässword',
        "carol@plain.example": "carol-plain-2",
      };
      for (const [jid, password] of Object.entries(passwords)) {
        const credentials = await getCredentials(xdb, jid);
        assert.ok(credentials, jid);
        assert.equal(await verifyPlain(credentials, password), true, jid);
        assert.equal(await verifyPlain(credentials, password + "x"), false, jid);
      }
      // The plain-text password became both hashes; ejabberd's SCRAM stays SHA-1 only.
      const carol = await getCredentials(xdb, "carol@plain.example");
      assert.deepEqual(carol!.scram.map((s) => [s.hash, s.iterations]), [
        ["SHA-1", 4096],
        ["SHA-256", 4096],
      ]);
      const roster = await xdb.get("bob@example.org", "jabber:iq:roster");
      assert.deepEqual(roster?.getChildren("item").map((i) => i.attrs.jid), ["alice@example.org"]);
      const offline = await xdb.get("alice@example.org", "jabber:x:offline");
      assert.equal(
        offline?.getChildren("message")[0].getChildText("body"),
        "Are you there, Alice?",
      );
      const priv = await xdb.get("alice@example.org", "jabber:iq:private");
      assert.equal(priv?.getChildren("item")[0].attrs.key, "storage storage:bookmarks");
      const vcard = await xdb.get("alice@example.org", "vcard-temp");
      assert.equal(vcard?.getChildText("FN"), "Alice Liddell");
    });
    const list = await w.run(["user", "list"]);
    assert.equal(list.out, "alice@example.org\nbob@example.org\ncarol@plain.example\n");
  } finally {
    await w.cleanup();
  }
});

Deno.test("jabberd import keeps Prosody's pending requests where the roster keeps them", async () => {
  const w = await world();
  try {
    const result = await w.run(["import", FIXTURES + "prosody/alice@example.org.xml"]);
    assert.equal(result.code, 0, result.err);
    await w.inspect(async ({ xdb }) => {
      const roster = await xdb.get("alice@example.org", "jabber:iq:roster");
      const pending = roster?.getChildren("pending", "jabberd:roster:pending") ?? [];
      assert.deepEqual(pending.map((p) => p.attrs.jid), ["carol@example.net"]);
      assert.equal(pending[0].getChild("presence")?.attrs.type, "subscribe");
      assert.equal(roster?.getChildren("item")[1].attrs.ask, "subscribe");
    });
  } finally {
    await w.cleanup();
  }
});

Deno.test("jabberd export writes what import reads back, without any password", async () => {
  const w = await world();
  const other = await world();
  try {
    assert.equal((await w.run(["import", FIXTURES + "ejabberd/20261126-131902.xml"])).code, 0);
    const file = `${w.dir}/out.xml`;
    const exported = await w.run(["export", "-o", file]);
    assert.equal(exported.code, 0, exported.err);
    assert.match(exported.err, /Exported 3 account\(s\) of 2 host\(s\)/);
    const text = await Deno.readTextFile(file);
    assert.doesNotMatch(text, /password/);
    assert.doesNotMatch(text, /carol-plain-2/);
    const imported = await other.run(["import", file]);
    assert.equal(imported.code, 0, imported.err);
    await other.inspect(async ({ xdb }) => {
      const carol = await getCredentials(xdb, "carol@plain.example");
      assert.equal(await verifyPlain(carol!, "carol-plain-2"), true);
      const alice = await xdb.get("alice@example.org", "jabber:x:offline");
      assert.equal(alice?.getChildren("message").length, 1);
    });
    const onlyOne = await w.run(["export", "--host", "plain.example"]);
    assert.match(onlyOne.out, /<user name='carol'>/);
    assert.doesNotMatch(onlyOne.out, /<user name='alice'>/);
  } finally {
    await w.cleanup();
    await other.cleanup();
  }
});

Deno.test("jabberd user add, passwd, list and del manage an account", async () => {
  const w = await world();
  try {
    assert.equal((await w.run(["user", "add", "dave@example.org", "--password", "one"])).code, 0);
    const again = await w.run(["user", "add", "dave@example.org", "--password", "two"]);
    assert.equal(again.code, 1);
    assert.match(again.err, /already exists/);
    // Without --password the password is the first line of standard input.
    const passwd = await w.run(["user", "passwd", "dave@example.org"], "two\n");
    assert.equal(passwd.code, 0, passwd.err);
    await w.inspect(async ({ xdb }) => {
      const credentials = await getCredentials(xdb, "dave@example.org");
      assert.equal(await verifyPlain(credentials!, "two"), true);
      assert.equal(await verifyPlain(credentials!, "one"), false);
    });
    assert.equal((await w.run(["user", "list", "example.org"])).out, "dave@example.org\n");
    assert.equal((await w.run(["user", "del", "dave@example.org"])).code, 0);
    assert.equal((await w.run(["user", "list"])).out, "");
    const gone = await w.run(["user", "del", "dave@example.org"]);
    assert.equal(gone.code, 1);
    assert.match(gone.err, /no account/);
    assert.equal((await w.run(["user", "add", "not a jid"])).code, 2);
    assert.equal((await w.run(["user", "add", "erin@example.org"])).code, 2);
  } finally {
    await w.cleanup();
  }
});
