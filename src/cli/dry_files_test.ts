import assert from "node:assert/strict";
import { MemoryFiles } from "../adapters/memory/files.ts";
import { readThrough } from "./dry_files.ts";

Deno.test("2 readThrough() reads the real files, keeps every write in memory, and prefers what the dry run wrote", async () => {
  const real = new MemoryFiles({ "/etc/jabberd/certs/a.pem": "real pem" });
  const written = new MemoryFiles();
  const files = readThrough(written, real);
  assert.equal(await files.readTextFile("/etc/jabberd/certs/a.pem"), "real pem");
  assert.equal(await files.exists("/etc/jabberd/certs/a.pem"), true);

  await files.mkdir("/etc/jabberd/data/certs");
  await files.writeTextFile("/etc/jabberd/data/certs/server.pem", "made");
  await files.writeTextFile("/etc/jabberd/certs/a.pem", "overwritten");
  assert.equal(await files.readTextFile("/etc/jabberd/data/certs/server.pem"), "made");
  assert.equal(await files.readTextFile("/etc/jabberd/certs/a.pem"), "overwritten");
  await files.remove("/etc/jabberd/certs/a.pem");

  // The real side never changed.
  assert.equal(await real.readTextFile("/etc/jabberd/certs/a.pem"), "real pem");
  assert.equal(await real.exists("/etc/jabberd/data/certs/server.pem"), false);
  await assert.rejects(files.readTextFile("/etc/jabberd/nowhere.pem"), /No such file/);
});
