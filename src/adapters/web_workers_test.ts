import assert from "node:assert/strict";
import type { WorkerHandle } from "./types.ts";
import { WebWorkers } from "./web_workers.ts";

const ECHO = new URL("./testdata/echo_worker.ts", import.meta.url).href;

/** The next message or error of a worker, whichever comes first. */
function next(worker: WorkerHandle): Promise<{ data?: unknown; error?: string }> {
  return new Promise((resolve) => {
    worker.onMessage((data) => resolve({ data }));
    worker.onError((error) => resolve({ error }));
  });
}

Deno.test("WebWorkers.start() runs a module worker that answers over its message port", async () => {
  const worker = new WebWorkers().start(ECHO);
  try {
    const answer = next(worker);
    worker.postMessage({ n: 1, list: ["a"] });
    assert.deepEqual(await answer, { data: { echo: { n: 1, list: ["a"] } } });
  } finally {
    worker.terminate();
  }
});

Deno.test("WebWorkers: an uncaught error reaches onError and leaves the process running", async () => {
  const worker = new WebWorkers().start(ECHO);
  try {
    const failed = next(worker);
    worker.postMessage("throw");
    const { error } = await failed;
    assert.match(error ?? "", /asked to throw/);
  } finally {
    worker.terminate();
  }
});

Deno.test("WebWorkers: a module that cannot be loaded is an error of the worker", async () => {
  const worker = new WebWorkers().start(new URL("./testdata/missing.ts", import.meta.url).href);
  try {
    // The text depends on how Deno loads it ("Module not found", or a failed type check).
    const { data, error } = await next(worker);
    assert.equal(data, undefined);
    assert.ok(error);
  } finally {
    worker.terminate();
  }
});
