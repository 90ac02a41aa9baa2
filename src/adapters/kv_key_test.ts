/** Tests the tuple-layer key codec: what Deno KV, the memory store and PostgreSQL order by. */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { decodeKey, encodeKey } from "./kv_key.ts";

Deno.test("decodeKey() gives back every kind of key part encodeKey() encodes", () => {
  const keys = [
    [],
    ["room", "a\0b", "é", ""],
    [new Uint8Array([0, 255, 0]), new Uint8Array([])],
    [0n, 1n, -1n, 255n, -256n, 2n ** 70n, -(2n ** 70n)],
    [0, -0, 1.5, -2.25, Infinity, -Infinity, Number.MAX_VALUE],
    [true, false, "mixed", 7, 7n],
  ];
  for (const key of keys) assert.deepEqual(decodeKey(encodeKey(key)), key);
});

Deno.test("decodeKey() refuses bytes encodeKey() cannot make", () => {
  assert.throws(() => decodeKey(Uint8Array.from([0x02, 0x61])), /unterminated/);
  assert.throws(() => decodeKey(Uint8Array.from([0x99])), /unknown type code 153/);
});

Deno.test("decodeKey() reads a pooled Buffer, as the PostgreSQL driver gives, and leaves it be", () => {
  const key = ["n", -1.5, 2.5, "after"];
  const bytes = Buffer.from(encodeKey(key));
  const before = Buffer.from(bytes);
  assert.deepEqual(decodeKey(bytes), key);
  assert.deepEqual(bytes, before);
});
