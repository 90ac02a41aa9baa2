import assert from "node:assert/strict";
import { after, idAt, IdMaker, timeOf } from "./ids.ts";

Deno.test("IdMaker.next() makes sorted, distinct ids within one millisecond and backwards", () => {
  const ids = new IdMaker(() => 0.999999);
  const made = [ids.next(1000), ids.next(1000), ids.next(999), ids.next(1001), ids.next(5)];
  assert.deepEqual([...made].sort(), made);
  assert.equal(new Set(made).size, made.length);
  assert.equal(made[0].length, 18);
});

Deno.test("idAt() bounds the ids of a millisecond and timeOf() reads it back", () => {
  const id = new IdMaker().next(Date.UTC(2024, 4, 17));
  assert.equal(timeOf(id), Date.UTC(2024, 4, 17));
  assert.ok(idAt(Date.UTC(2024, 4, 17)) <= id);
  assert.ok(id < idAt(Date.UTC(2024, 4, 17) + 1));
  assert.ok(id < after(id) && after(id) < new IdMaker().next(Date.UTC(2024, 4, 17) + 1));
  assert.equal(timeOf("not-an-id"), undefined);
});
