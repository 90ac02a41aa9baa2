import assert from "node:assert/strict";
import { MemoryWorkers } from "./workers.ts";

const URL_A = "file:///memory/worker.ts";

Deno.test("MemoryWorkers.start() runs the registered program with cloned messages both ways", async () => {
  const seen: unknown[] = [];
  const workers = new MemoryWorkers().register(URL_A, (scope) => {
    scope.onMessage((data) => {
      seen.push(data);
      scope.postMessage({ echo: data, from: scope.url });
    });
  });
  const worker = workers.start(URL_A);
  const answer = new Promise((resolve) => worker.onMessage(resolve));
  const message = { list: [1] };
  worker.postMessage(message);
  // A clone travels: a change after sending is not seen.
  message.list.push(2);
  assert.deepEqual(await answer, { echo: { list: [1] }, from: URL_A });
  assert.deepEqual(seen, [{ list: [1] }]);
  assert.throws(() => worker.postMessage({ f: () => {} }), { name: "DataCloneError" });
  worker.terminate();
});

Deno.test("MemoryWorkers: a throw in the program is the worker's uncaught error", async () => {
  const workers = new MemoryWorkers({
    [URL_A]: (scope) => scope.onMessage(() => Promise.reject(new Error("boom"))),
  });
  const worker = workers.start(URL_A);
  const error = new Promise((resolve) => worker.onError(resolve));
  worker.postMessage("go");
  assert.equal(await error, "Uncaught Error: boom");
});

Deno.test("MemoryWorkers: after terminate() nothing is delivered and the program is aborted", async () => {
  let aborted = false;
  let receivedAfter = false;
  const workers = new MemoryWorkers().register(URL_A, (scope) => {
    scope.signal.addEventListener("abort", () => aborted = true);
    scope.onMessage(() => receivedAfter = true);
    scope.postMessage("hello");
  });
  const worker = workers.start(URL_A);
  let heard = false;
  worker.onMessage(() => heard = true);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(heard, true);
  worker.terminate();
  worker.postMessage("late");
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(aborted, true);
  assert.equal(receivedAfter, false);
});
