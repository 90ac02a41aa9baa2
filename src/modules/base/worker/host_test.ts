/** Tests of the worker host (host.ts) on fake workers of the memory adapters, step by step. */
import assert from "node:assert/strict";
import type { MemoryWorkerProgram } from "../../../adapters/memory/mod.ts";
import type { ModuleDefinition } from "../../../server/module_api.ts";
import { testServer, waitFor } from "../../../server/_testing.ts";
import { xml } from "../../../xml/element.ts";
import { RUNTIME_URL, WorkerModule } from "./host.ts";
import type { FromWorker, ToWorkerBatch } from "./protocol.ts";

/** Runs a WorkerModule with one-second restarts in the section `<worker xmlns="test:worker"/>`. */
const workerSection: ModuleDefinition = {
  element: "test:worker",
  sections: ["service"],
  async register(api) {
    await new WorkerModule(api, {
      url: "file:///modules/bot.ts",
      configDir: "/etc/jabberd",
      restartDelayMs: 1000,
      restartMaxMs: 60_000,
      queueLimit: 10,
      queueTimeoutMs: 30_000,
      startTimeoutMs: 30_000,
      unloadTimeoutMs: 1000,
    }).start();
  },
};

Deno.test("deno.json's compile task embeds the worker runtime WorkerModule starts", async () => {
  const root = new URL("../../../../", import.meta.url);
  const tasks = JSON.parse(await Deno.readTextFile(new URL("deno.json", root))).tasks;
  const runtime = new URL(RUNTIME_URL).pathname.slice(root.pathname.length);
  assert.equal(runtime, "src/modules/base/worker/runtime.ts");
  assert.ok(tasks.compile.includes(`--include ${runtime}`), tasks.compile);
});

Deno.test("WorkerModule restarts a worker that throws, after the restart delay", async () => {
  let starts = 0;
  // A stand-in for runtime.ts: ready at once, handles deliver, unloads; the first one throws on
  // a packet.
  const runtime: MemoryWorkerProgram = (scope) => {
    const generation = ++starts;
    const post = (...messages: FromWorker[]) => scope.postMessage(messages);
    scope.onMessage((data) => {
      if ("t" in (data as object)) return post({ t: "ready" }, { t: "handle", phase: "deliver" });
      for (const message of (data as ToWorkerBatch).messages) {
        if (message.t === "unload") post({ t: "unloaded" });
        if (message.t !== "packet") continue;
        if (generation === 1) throw new Error("boom");
        post({ t: "result", id: message.id, result: "done" });
      }
    });
  };
  const world = await testServer(
    `<jabberd><service id="bot"><host>bot.example</host><worker xmlns="test:worker"/></service>
    </jabberd>`,
    { memory: { workers: { [RUNTIME_URL]: runtime } }, modules: [workerSection] },
  );
  try {
    const send = (body: string) =>
      world.router.deliver(
        xml("message", { to: "bot.example", from: "alice@client.example" }, xml("body", {}, body)),
      );
    send("first");
    await waitFor(
      () => world.logLines().some((line) => line.includes("restarting in 1000 ms")),
      "the crash to be logged",
    );
    assert.ok(
      world.logLines().some((line) => line.includes("stopped: it threw: Uncaught Error: boom")),
      world.logLines().join("\n"),
    );
    // Waits for the restart (not settle(): the router is busy with it until then).
    send("while down");
    for (let i = 0; i < 10; i++) await new Promise((resolve) => setTimeout(resolve, 0));
    assert.equal(starts, 1);
    world.memory.clock.advance(1000);
    await waitFor(() => world.logLines().some((line) => line.includes("restarted")), "a restart");
    assert.equal(starts, 2);
    await world.settle();
    // The packet that waited was taken by the new worker: nothing bounced for it.
    assert.ok(!world.logLines().some((line) => line.includes("<body>while down</body>")));
  } finally {
    await world.stop();
  }
});
