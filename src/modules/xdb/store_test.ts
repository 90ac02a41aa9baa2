import { DenoKvAdapter } from "../../adapters/deno/kv.ts";
import { MemoryKvAdapter } from "../../adapters/memory/kv.ts";
import { xdbStoreConformance } from "./store_conformance.ts";

const memory = new MemoryKvAdapter();
for (const c of xdbStoreConformance("memory KV", (name) => memory.open(name), { durable: true })) {
  Deno.test(c.name, c.fn);
}

const deno = new DenoKvAdapter();
for (
  const c of xdbStoreConformance("Deno KV :memory:", () => deno.open(":memory:"), {
    durable: false,
  })
) {
  Deno.test(c.name, c.fn);
}

const folder = Deno.makeTempDirSync({ prefix: "xdb-store-test-" });
const fileCases = xdbStoreConformance(
  "Deno KV file",
  (name) => deno.open(`${folder}/${name}.sqlite3`),
  { durable: true },
);
fileCases.forEach((c, index) => {
  Deno.test(c.name, async () => {
    try {
      await c.fn();
    } finally {
      if (index === fileCases.length - 1) await Deno.remove(folder, { recursive: true });
    }
  });
});
