import assert from "node:assert/strict";
import { findViolations } from "./check_boundary.ts";

const FIXTURES = new URL("./testdata/boundary/", import.meta.url).pathname;

Deno.test("findViolations() reports Deno., an I/O node: import and new Worker( in the core", async () => {
  assert.deepEqual(await findViolations(FIXTURES), [
    "new Worker( src/core/starts_worker.ts:2: " +
    'export const startWorker = (url: string) => new Worker(url, { type: "module" });',
    "Deno. src/core/uses_deno.ts:2: export const workingDirectory = () => Deno.cwd();",
    'node: import src/core/uses_dgram.ts:2: import { createSocket } from "node:dgram";',
  ]);
});
