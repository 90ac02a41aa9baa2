import assert from "node:assert/strict";
import { KeyedQueue } from "./keyed_queue.ts";

Deno.test("KeyedQueue.run() runs jobs of one key in order, after failures too, and forgets idle keys", async () => {
  const queue = new KeyedQueue();
  const log: string[] = [];
  const job = (name: string, turns: number, fail = false) => async () => {
    for (let turn = 0; turn < turns; turn++) await Promise.resolve();
    log.push(name);
    if (fail) throw new Error(name);
    return name;
  };
  const results = [
    queue.run("juliet", job("j1", 5)),
    queue.run("juliet", job("j2", 0, true)),
    queue.run("romeo", job("r1", 0)),
    queue.run("juliet", job("j3", 0)),
  ];
  const settled = await Promise.allSettled(results);
  assert.deepEqual(settled.map((s) => s.status), [
    "fulfilled",
    "rejected",
    "fulfilled",
    "fulfilled",
  ]);
  // romeo did not wait for juliet; juliet's jobs kept their order.
  assert.deepEqual(log, ["r1", "j1", "j2", "j3"]);
  await Promise.resolve();
  assert.equal(queue.size, 0);
});
