/** Runs the KvStore conformance suite on the in-memory store and on Deno KV (memory and file). */

import assert from "node:assert/strict";
import { kvConformance } from "./kv_conformance.ts";
import { DenoKvAdapter } from "./deno/kv.ts";
import { MemoryKvAdapter } from "./memory/kv.ts";
import type { KvStore } from "./types.ts";

/** The folders the file-backed stores were made in, each removed when its store closes. */
const folders: string[] = [];

kvConformance("memory", () => new MemoryKvAdapter().open(":memory:"));
kvConformance("Deno KV :memory:", () => new DenoKvAdapter().open(":memory:"));
kvConformance("Deno KV file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "jabberd_kv_" });
  folders.push(dir);
  const kv = await new DenoKvAdapter().open(`${dir}/test.sqlite`);
  const store: KvStore = {
    get: (key) => kv.get(key),
    getMany: (keys) => kv.getMany(keys),
    list: (selector, options) => kv.list(selector, options),
    atomic: () => kv.atomic(),
    close() {
      kv.close();
      Deno.removeSync(dir, { recursive: true });
    },
  };
  return store;
});

// Registered last, so it runs after the suite (tests of one file run in order).
Deno.test("KvStore (Deno KV file) suite leaves no temporary folder behind", () => {
  assert.ok(folders.length > 0);
  const left = folders.filter((dir) => {
    try {
      Deno.statSync(dir);
      return true;
    } catch {
      return false;
    }
  });
  assert.deepEqual(left, []);
});
