import assert from "node:assert/strict";
import { ConnectionCounter, Karma, SlidingWindow, TokenBucket } from "./limits.ts";

Deno.test("TokenBucket.take() allows a burst, then refills at the rate", () => {
  const bucket = new TokenBucket(100, 300, 0);
  assert.equal(bucket.take(200, 0), true);
  assert.equal(bucket.waitMs(0), 0);
  assert.equal(bucket.take(150, 0), false); // overdrawn by 50
  assert.equal(bucket.waitMs(0), 510); // (1 + 50) bytes at 100 bytes/s
  assert.equal(bucket.take(0, 510), true);
  // Refills never go above the burst.
  assert.equal(bucket.take(300, 1_000_000), false);
  assert.equal(bucket.waitMs(1_000_000), 10);
  assert.equal(new TokenBucket(100, 300, 0).take(299, 0), true);
});

Deno.test("Karma.read() pauses an empty bucket between stanzas, not inside one", () => {
  const karma = new Karma(100, 300, 0);
  const parser = { inStanza: false, completed: 0 };
  assert.equal(karma.read(200, 0, parser), 0);
  parser.inStanza = true;
  assert.equal(karma.read(150, 0, parser), 0); // overdrawn by 50, inside a stanza: go on
  assert.equal(karma.read(1000, 0, parser), 0);
  parser.inStanza = false;
  parser.completed = 1;
  assert.equal(karma.read(50, 0, parser), 11_010); // the stanza ended: pay for all 1100 bytes
  assert.equal(karma.read(0, 11_010, parser), 0);
});

Deno.test("Karma.read() goes on only to the end of the stanza that ran the bucket dry", () => {
  const karma = new Karma(1000, 100, 0);
  // Stanzas back to back, every chunk ending inside the next one.
  const parser = { inStanza: true, completed: 5 };
  assert.equal(karma.read(150, 0, parser), 0);
  assert.equal(karma.read(100, 0, parser), 0);
  parser.completed = 6;
  assert.equal(karma.read(100, 0, parser), 251);
  // Once paid for, the next stanza that runs it dry may finish again.
  assert.equal(karma.read(20, 251, parser), 0);
  parser.completed = 8;
  assert.equal(karma.read(20, 251, parser), 40);
});

Deno.test("ConnectionCounter.acquire() refuses more than max per address and counts releases", () => {
  const counter = new ConnectionCounter(2);
  assert.equal(counter.acquire("192.0.2.1"), true);
  assert.equal(counter.acquire("192.0.2.1"), true);
  assert.equal(counter.acquire("192.0.2.1"), false);
  assert.equal(counter.acquire("192.0.2.2"), true);
  assert.equal(counter.count("192.0.2.1"), 2);
  counter.release("192.0.2.1");
  assert.equal(counter.acquire("192.0.2.1"), true);
  counter.release("192.0.2.2");
  counter.release("192.0.2.2");
  assert.equal(counter.count("192.0.2.2"), 0);
});

Deno.test("SlidingWindow.tryRecord() allows limit events per key within the window", () => {
  const window = new SlidingWindow(2, 1000);
  assert.equal(window.tryRecord("a", 0), true);
  assert.equal(window.tryRecord("a", 400), true);
  assert.equal(window.tryRecord("a", 999), false);
  assert.equal(window.tryRecord("b", 999), true);
  assert.equal(window.tryRecord("a", 1000), true); // the event at 0 left the window
  assert.equal(window.tryRecord("a", 1001), false);
});
