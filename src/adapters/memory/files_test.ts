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

Deno.test("MemoryFiles writes, reads and removes bytes as Deno does", async () => {
  const files = new MemoryFiles();
  const bytes = new Uint8Array([0, 255, 10, 128]);
  await assert.rejects(files.writeFile("/up/a", bytes), { name: "NotFound" });
  await files.mkdir("/up");
  await files.writeFile("/up/a", bytes);
  bytes[0] = 1; // The adapter keeps its own copy.
  assert.deepEqual(await files.readFile("/up/a"), new Uint8Array([0, 255, 10, 128]));
  assert.equal(await files.size("/up/a"), 4);
  assert.equal(await files.exists("/up/a"), true);
  await files.writeTextFile("/up/t", "é");
  assert.deepEqual(await files.readFile("/up/t"), new Uint8Array([0xc3, 0xa9]));
  await files.remove("/up/a");
  await files.remove("/up/a"); // Missing: no error.
  assert.equal(await files.exists("/up/a"), false);
  await assert.rejects(files.readFile("/up/a"), { name: "NotFound" });
});
