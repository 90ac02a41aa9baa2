import assert from "node:assert/strict";
import { logSection } from "./_testing.ts";

Deno.test("<stdout/> writes each log packet as one line to standard output", async () => {
  const { memory, log, stop, fallback } = await logSection(`<stdout/>`);
  log("notice", "started", "jabber.example.org");
  assert.deepEqual(memory.output.stdout, [
    "2024-05-17T08:30:05.000Z jabber.example.org notice started\n",
  ]);
  assert.deepEqual(memory.output.stderr, []);
  assert.deepEqual(fallback, []);
  await stop();
});
