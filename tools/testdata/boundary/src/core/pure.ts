/** Keeps the rule: node: modules that only compute are allowed in the core. */
import { createHash } from "node:crypto";
import { join } from "node:path";
import assert from "node:assert/strict";

export function digest(dir: string, name: string): string {
  assert.ok(name !== "");
  return createHash("sha256").update(join(dir, name)).digest("hex");
}
