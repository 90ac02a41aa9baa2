import assert from "node:assert/strict";
import { MemoryFiles } from "./files.ts";

Deno.test("MemoryFiles writes, appends, sizes and renames files", async () => {
  const files = new MemoryFiles({ "/etc/jabberd.xml": "<jabberd/>" });
  assert.equal(await files.readTextFile("/etc//./jabberd.xml"), "<jabberd/>");
  await files.mkdir("/var/log/jabberd");
  await files.writeTextFile("/var/log/jabberd/log", "é\n");
  await files.writeTextFile("/var/log/jabberd/log", "b\n", { append: true });
  assert.equal(await files.size("/var/log/jabberd/log"), 5);
  await files.rename("/var/log/jabberd/log", "/var/log/jabberd/log.1");
  assert.equal(await files.exists("/var/log/jabberd/log"), false);
  assert.equal(await files.readTextFile("/var/log/jabberd/log.1"), "é\nb\n");
  assert.equal(await files.exists("/var/log"), true);
  await files.writeTextFile("/var/log/jabberd/log.1", "new");
  assert.equal(await files.readTextFile("/var/log/jabberd/log.1"), "new");
});

Deno.test("MemoryFiles fails like Deno for missing files and directories", async () => {
  const files = new MemoryFiles();
  assert.equal(await files.size("/missing"), undefined);
  await assert.rejects(files.readTextFile("/missing"), { name: "NotFound" });
  await assert.rejects(files.writeTextFile("/no/dir/file", "x"), { name: "NotFound" });
  await assert.rejects(files.rename("/missing", "/other"), { name: "NotFound" });
});
