/** Runs the KvStore conformance suite on the in-memory store and on Deno KV (memory and file). */

import { kvConformance } from "./kv_conformance.ts";
import { DenoKvAdapter } from "./deno/kv.ts";
import { MemoryKvAdapter } from "./memory/kv.ts";

kvConformance("memory", () => new MemoryKvAdapter().open(":memory:"));
kvConformance("Deno KV :memory:", () => new DenoKvAdapter().open(":memory:"));
kvConformance("Deno KV file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "jabberd_kv_" });
  return new DenoKvAdapter().open(`${dir}/test.sqlite`);
});
