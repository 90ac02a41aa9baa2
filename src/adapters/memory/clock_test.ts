import assert from "node:assert/strict";
import { ManualClock } from "./clock.ts";

Deno.test("ManualClock.advance() runs due timers in due order and no others", () => {
  const clock = new ManualClock(1000);
  const ran: string[] = [];
  clock.setTimeout(() => ran.push(`b@${clock.now()}`), 20);
  clock.setTimeout(() => ran.push(`a@${clock.now()}`), 10);
  clock.setTimeout(() => ran.push(`c@${clock.now()}`), 10);
  const late = clock.setTimeout(() => ran.push("late"), 100);
  clock.advance(20);
  assert.deepEqual(ran, ["a@1010", "c@1010", "b@1020"]);
  assert.equal(clock.now(), 1020);
  assert.equal(clock.pending, 1);
  clock.clearTimeout(late);
  clock.advance(1000);
  assert.deepEqual(ran, ["a@1010", "c@1010", "b@1020"]);
});

Deno.test("ManualClock intervals repeat, and timers set while advancing run if due", () => {
  const clock = new ManualClock(0);
  const ticks: number[] = [];
  const id = clock.setInterval(() => {
    ticks.push(clock.now());
    if (ticks.length === 2) clock.setTimeout(() => ticks.push(-clock.now()), 5);
  }, 10);
  clock.advance(35);
  assert.deepEqual(ticks, [10, 20, -25, 30]);
  clock.clearInterval(id);
  clock.advance(100);
  assert.equal(ticks.length, 4);
  assert.equal(clock.now(), 135);
});

Deno.test("ManualClock.advanceAsync() lets async timer work settle between timers", async () => {
  const clock = new ManualClock(0);
  const log: string[] = [];
  clock.setTimeout(async () => {
    await Promise.resolve();
    log.push("first done");
  }, 1);
  clock.setTimeout(() => log.push("second"), 2);
  await clock.advanceAsync(2);
  assert.deepEqual(log, ["first done", "second"]);
});
