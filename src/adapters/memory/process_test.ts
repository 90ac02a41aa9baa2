import assert from "node:assert/strict";
import { MemoryProcess } from "./process.ts";

const decoder = new TextDecoder();

Deno.test("MemoryProcess runs a registered program with piped streams", async () => {
  const processes = new MemoryProcess({
    upper: (context) => {
      const done = Promise.withResolvers<number>();
      context.stderr(`args ${context.args.join(",")} ${context.env.MODE}`);
      context.onStdin((chunk) => {
        const text = decoder.decode(chunk);
        if (text === "quit") done.resolve(7);
        else context.stdout(text.toUpperCase());
      });
      return done.promise;
    },
  });
  const child = processes.spawn("upper", { args: ["-x"], env: { MODE: "test" } });
  let stdout = "";
  let stderr = "";
  child.onStdout((chunk) => stdout += decoder.decode(chunk));
  child.onStderr((chunk) => stderr += decoder.decode(chunk));
  child.writeStdin("<a/>");
  child.writeStdin(new TextEncoder().encode("<b/>"));
  child.writeStdin("quit");
  assert.equal(await child.exited, 7);
  assert.equal(stdout, "<A/><B/>");
  assert.equal(stderr, "args -x test");
});

Deno.test("MemoryProcess kill() ends a program with 128 + the signal number", async () => {
  let reason: unknown;
  let started = 0;
  const processes = new MemoryProcess().register("wait", (context) => {
    started++;
    context.signal.addEventListener("abort", () => reason = context.signal.reason);
    context.stdout("ready");
    return new Promise(() => {});
  });
  const child = processes.spawn("wait");
  await new Promise((resolve) => child.onStdout(resolve));
  child.kill();
  assert.equal(await child.exited, 143);
  assert.equal(reason, "SIGTERM");
  const other = processes.spawn("wait");
  other.kill("SIGKILL");
  assert.equal(await other.exited, 137);
  // Killed before it ran: the program never started.
  assert.equal(started, 1);
});

Deno.test("MemoryProcess reports a throwing program on stderr with exit code 1", async () => {
  const child = new MemoryProcess({
    broken: () => {
      throw new Error("Broken program");
    },
  }).spawn("broken");
  let stderr = "";
  child.onStderr((chunk) => stderr += decoder.decode(chunk));
  assert.equal(await child.exited, 1);
  assert.match(stderr, /Broken program/);
});

Deno.test("MemoryProcess.spawn() throws NotFound for an unknown program", () => {
  assert.throws(() => new MemoryProcess().spawn("missing"), { name: "NotFound" });
});
