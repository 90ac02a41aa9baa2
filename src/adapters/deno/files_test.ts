/** Tests of the Deno file adapter's byte operations, in a temporary folder. */
import assert from "node:assert/strict";
import { DenoFiles } from "./files.ts";

Deno.test("DenoFiles writes, reads and removes bytes, and removing a missing file is no error", async () => {
  const dir = await Deno.makeTempDir({ prefix: "jabberd-files-" });
  try {
    const files = new DenoFiles();
    const bytes = new Uint8Array([0, 255, 10, 128]);
    await files.writeFile(`${dir}/a`, bytes);
    assert.deepEqual(await files.readFile(`${dir}/a`), bytes);
    assert.equal(await files.size(`${dir}/a`), 4);
    await files.remove(`${dir}/a`);
    await files.remove(`${dir}/a`);
    assert.equal(await files.exists(`${dir}/a`), false);
    await assert.rejects(files.readFile(`${dir}/a`), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
