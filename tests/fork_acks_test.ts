/**
 * `<fork>` acknowledgements with a real child process (src/tree/ROUTING.md R48): packets written
 * to a child's stdin just as it dies reach the restarted child, each exactly once.
 *
 * Killing the child alone almost never hits the moment a packet is in its pipe, so the child is
 * frozen first (SIGSTOP): what the parent then writes stays unread in the pipe, and SIGKILL makes
 * the kernel throw it away, every time. Without acknowledgements those packets are lost.
 */
import assert from "node:assert/strict";
import { denoAdapters } from "../src/adapters/deno/mod.ts";
import { botWorld } from "../src/modules/base/_testing.ts";
import { waitFor } from "../src/server/_testing.ts";
import { xml } from "../src/xml/element.ts";

const ROOT = new URL("..", import.meta.url).pathname.slice(0, -1);

function lastPid(logs: string[]): number | undefined {
  for (const line of [...logs].reverse()) {
    const found = line.match(/Forked module .* started \(pid (\d+)\)/);
    if (found) return Number(found[1]);
  }
  return undefined;
}

Deno.test("R48 fork: a child frozen while packets are written to it, then killed: the restarted child answers each of them exactly once", async () => {
  const fork = xml(
    "fork",
    { "restart-delay": "200ms" },
    "src/modules/base/testdata/echo_module.ts",
  );
  const tree = await botWorld(`<service id="bot"><host>bot.example</host>${fork}</service>`, {
    adapters: denoAdapters(),
    file: `${ROOT}/jabberd.xml`,
  });
  const answers = (body: string) => tree.bodies().filter((b) => b === `echo: ${body}`).length;
  const flows = (from: number, to: number) =>
    Array.from({ length: to - from }, (_, i) => `flow-${from + i}`);
  let frozen: number | undefined;
  try {
    await waitFor(() => lastPid(tree.logs) !== undefined, "the child to start");
    for (const body of flows(0, 10)) tree.send("bot.example", body);
    await waitFor(() => flows(0, 10).every((b) => answers(b) === 1), "the first ten answers");
    // A packet after them: its answer comes after the child acknowledged the first ten (one
    // acknowledgement per read, written before what the next read makes it send).
    tree.send("bot.example", "sync");
    await waitFor(() => answers("sync") === 1, "the answer to sync");

    const pid = lastPid(tree.logs)!;
    Deno.kill(pid, "SIGSTOP");
    frozen = pid;
    for (const body of flows(10, 20)) tree.send("bot.example", body);
    // Let the parent write them into the pipe nobody reads.
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(flows(10, 20).filter((b) => answers(b) > 0).length, 0, "a frozen child answers");

    const logsBefore = tree.logs.length;
    Deno.kill(pid, "SIGKILL");
    frozen = undefined;
    await waitFor(
      () => tree.logs.slice(logsBefore).some((l) => /restarting in/.test(l)),
      "the death to be noticed",
    );
    for (const body of flows(20, 30)) tree.send("bot.example", body);
    tree.send("bot.example", "while-away");

    // "while-away" goes after every resent and queued packet on the same stream, so once it is
    // answered, an answer that comes twice would already be here.
    await waitFor(() => answers("while-away") === 1, "the answer to while-away after the restart");
    assert.notEqual(lastPid(tree.logs), pid);
    for (const body of flows(10, 30)) {
      assert.equal(answers(body), 1, `${body} answered exactly once`);
    }
    for (const body of flows(0, 10)) assert.equal(answers(body), 1, `${body} not answered again`);
  } finally {
    if (frozen !== undefined) {
      try {
        Deno.kill(frozen, "SIGKILL");
      } catch {
        // Gone already.
      }
    }
    await tree.world.stop();
  }
});
