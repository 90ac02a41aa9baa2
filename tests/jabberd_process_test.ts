/**
 * The shared child-process helpers (tests/jabberd_process.ts) on small `sh` children: the
 * SIGKILL fallback of `stopChild`, and `waitForPort` both ways. Every child is ended by its PID.
 */
import assert from "node:assert/strict";
import { freePort, stopChild, waitForPort } from "./jabberd_process.ts";

/** `sh -c script`, its output piped; resolves once it printed `ready` (its traps are set). */
async function shell(script: string): Promise<Deno.ChildProcess> {
  const child = new Deno.Command("sh", {
    args: ["-c", script],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.getReader();
  let seen = "";
  while (!seen.includes("ready")) {
    const { done, value } = await reader.read();
    if (done) break;
    seen += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  await child.stdout.cancel();
  return child;
}

Deno.test("stopChild ends a child that ignores SIGTERM with SIGKILL once the grace time is over", async () => {
  const child = await shell(`trap '' TERM; echo ready; while :; do sleep 0.1; done`);
  try {
    await stopChild(child, "SIGTERM", 300);
    const status = await child.status;
    assert.equal(status.signal, "SIGKILL");
  } finally {
    await stopChild(child, "SIGKILL");
  }
});

Deno.test("stopChild on a child that obeys SIGTERM ends it with SIGTERM, and again is harmless", async () => {
  const child = await shell(`echo ready; exec sleep 30`);
  await stopChild(child, "SIGTERM", 10_000);
  assert.equal((await child.status).signal, "SIGTERM");
  await stopChild(child);
});

Deno.test("waitForPort fails with the child's log when the child exits before its port answers", async () => {
  const child = await shell(`echo ready; exit 3`);
  await assert.rejects(
    waitForPort(child, freePort(), { timeoutMs: 10_000, log: () => "the peer's last words" }),
    /exited while starting:\n.*the peer's last words/,
  );
});

Deno.test("waitForPort returns once the port accepts connections, and fails after the timeout when none does", async () => {
  const child = await shell(`echo ready; exec sleep 30`);
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepting = (async () => {
    for await (const conn of listener) conn.close();
  })();
  try {
    await waitForPort(child, (listener.addr as Deno.NetAddr).port, { timeoutMs: 10_000 });
    await assert.rejects(
      waitForPort(child, freePort(), { timeoutMs: 300 }),
      /Nothing listens on 127\.0\.0\.1:\d+ after 300 ms/,
    );
  } finally {
    listener.close();
    await accepting.catch(() => {});
    await stopChild(child, "SIGKILL");
  }
});
