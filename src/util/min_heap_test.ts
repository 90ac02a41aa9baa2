import assert from "node:assert/strict";
import { MinHeap } from "./min_heap.ts";

Deno.test("MinHeap.pop() gives items smallest first, equal items all of them", () => {
  const heap = new MinHeap<number>((a, b) => a - b);
  const input = [5, 3, 9, 1, 3, 7, 0, 8, 2, 6, 4, 9];
  for (const n of input) heap.push(n);
  assert.equal(heap.size, input.length);
  assert.equal(heap.peek(), 0);
  const out: number[] = [];
  for (let n = heap.pop(); n !== undefined; n = heap.pop()) out.push(n);
  assert.deepEqual(out, [...input].sort((a, b) => a - b));
  assert.equal(heap.size, 0);
});

Deno.test("MinHeap keeps order when pushes and pops interleave, and clear() empties it", () => {
  const heap = new MinHeap<{ due: number }>((a, b) => a.due - b.due);
  heap.push({ due: 30 });
  heap.push({ due: 10 });
  assert.equal(heap.pop()?.due, 10);
  heap.push({ due: 20 });
  heap.push({ due: 40 });
  assert.equal(heap.pop()?.due, 20);
  assert.equal(heap.peek()?.due, 30);
  heap.clear();
  assert.equal(heap.pop(), undefined);
});
