import assert from "node:assert/strict";
import { denoAdapters } from "./mod.ts";

Deno.test("denoAdapters() files: write, append, size, rename, mkdir, exists", async () => {
  const { files } = denoAdapters();
  const dir = await Deno.makeTempDir({ prefix: "jabberd_files_" });
  try {
    const logs = `${dir}/var/log`;
    await files.mkdir(logs);
    await files.mkdir(logs);
    await files.writeTextFile(`${logs}/jabberd.log`, "é\n");
    await files.writeTextFile(`${logs}/jabberd.log`, "b\n", { append: true });
    assert.equal(await files.size(`${logs}/jabberd.log`), 5);
    assert.equal(await files.size(`${logs}/missing`), undefined);
    await files.rename(`${logs}/jabberd.log`, `${logs}/jabberd.log.1`);
    assert.equal(await files.exists(`${logs}/jabberd.log`), false);
    assert.equal(await files.exists(logs), true);
    assert.equal(await files.readTextFile(`${logs}/jabberd.log.1`), "é\nb\n");
    await assert.rejects(files.readTextFile(`${logs}/missing`), { name: "NotFound" });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("denoAdapters() clock runs real timers and cancels them", async () => {
  const { clock } = denoAdapters();
  const before = clock.now();
  const cancelled = clock.setTimeout(() => assert.fail("a cleared timer ran"), 1);
  assert.equal(typeof cancelled, "number");
  clock.clearTimeout(cancelled);
  let ticks = 0;
  const done = Promise.withResolvers<void>();
  const interval = clock.setInterval(() => {
    if (++ticks === 3) done.resolve();
  }, 1);
  await done.promise;
  clock.clearInterval(interval);
  await new Promise<void>((resolve) => clock.setTimeout(resolve, 5));
  assert.equal(ticks, 3);
  assert.ok(clock.now() >= before);
});

Deno.test("denoAdapters() signals deliver SIGHUP until the listener is removed", async () => {
  const { signals } = denoAdapters();
  const got = Promise.withResolvers<void>();
  const stop = signals.on("SIGHUP", () => got.resolve());
  // Signal listeners do not keep the event loop alive; this timer does, and bounds the wait.
  const timeout = setTimeout(() => got.reject(new Error("No SIGHUP within 10 s")), 10_000);
  try {
    Deno.kill(Deno.pid, "SIGHUP");
    await got.promise;
  } finally {
    clearTimeout(timeout);
    stop();
  }
});

Deno.test("denoAdapters() env, stderr and DNS address literals", async () => {
  const adapters = denoAdapters();
  Deno.env.set("JABBERD_ADAPTER_TEST", "yes");
  assert.equal(adapters.env("JABBERD_ADAPTER_TEST"), "yes");
  Deno.env.delete("JABBERD_ADAPTER_TEST");
  assert.equal(adapters.env("JABBERD_ADAPTER_TEST"), undefined);
  adapters.stderr("");
  assert.deepEqual(await adapters.dns.resolveAddresses("127.0.0.1"), ["127.0.0.1"]);
  assert.deepEqual(await adapters.dns.resolveAddresses("::1"), ["::1"]);
});
