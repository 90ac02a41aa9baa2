import assert from "node:assert/strict";
import { DenoProcess } from "./process.ts";
import { V8_FLAGS_ARGUMENT } from "./v8_flags.ts";

function collect(onChunk: (callback: (chunk: Uint8Array) => void) => void): () => string {
  const decoder = new TextDecoder();
  let text = "";
  onChunk((chunk) => text += decoder.decode(chunk, { stream: true }));
  return () => text;
}

Deno.test("DenoProcess.spawn() pipes stdin to a child and its stdout back", async () => {
  const child = new DenoProcess().spawn("/bin/sh", { args: ["-c", "head -n 2"] });
  assert.ok(child.pid > 0);
  const stdout = collect((callback) => child.onStdout(callback));
  child.writeStdin("<stream:stream>\n");
  child.writeStdin(new TextEncoder().encode("</stream:stream>\n"));
  assert.equal(await child.exited, 0);
  assert.equal(stdout(), "<stream:stream>\n</stream:stream>\n");
});

Deno.test("DenoProcess.spawn() reports stderr, the exit code, cwd and env", async () => {
  const dir = await Deno.makeTempDir({ prefix: "jabberd_process_" });
  try {
    const child = new DenoProcess().spawn("/bin/sh", {
      args: ["-c", 'echo "$GREETING" >&2; pwd; exit 3'],
      cwd: dir,
      env: { GREETING: "oops" },
    });
    const stderr = collect((callback) => child.onStderr(callback));
    const stdout = collect((callback) => child.onStdout(callback));
    assert.equal(await child.exited, 3);
    assert.equal(stderr(), "oops\n");
    assert.equal(stdout(), `${await Deno.realPath(dir)}\n`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("DenoProcess kill() ends a child with 128 + the signal number", async () => {
  const processes = new DenoProcess();
  const term = processes.spawn("/bin/cat");
  const echoed = collect((callback) => term.onStdout(callback));
  term.writeStdin("ping");
  for (let i = 0; i < 2000 && echoed() !== "ping"; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.equal(echoed(), "ping");
  term.kill();
  assert.equal(await term.exited, 143);
  const killed = processes.spawn("/bin/cat");
  killed.kill("SIGKILL");
  assert.equal(await killed.exited, 137);
  // Killing or writing to a finished child is harmless.
  killed.kill();
  killed.writeStdin("late");
});

Deno.test("DenoProcess.spawn() throws for a program that does not exist", () => {
  assert.throws(() => new DenoProcess().spawn("/nonexistent/jabberd-test-program"));
});

Deno.test("DenoProcess.selfCommand() under deno run starts main.ts with the running Deno and the server's V8 flags", () => {
  const main = decodeURIComponent(new URL("../../../main.ts", import.meta.url).pathname);
  assert.equal(Deno.build.standalone, false);
  assert.deepEqual(new DenoProcess().selfCommand(["fork-child", "--id=bot"]), {
    command: Deno.execPath(),
    args: ["run", "-A", V8_FLAGS_ARGUMENT, main, "fork-child", "--id=bot"],
  });
});

Deno.test("DenoProcess.selfCommand() in a compiled binary runs the binary with the arguments alone", () => {
  const compiled = new DenoProcess({ standalone: true, execPath: "/usr/local/bin/jabberd" });
  assert.deepEqual(compiled.selfCommand(["fork-child", "--id=bot"]), {
    command: "/usr/local/bin/jabberd",
    args: ["fork-child", "--id=bot"],
  });
});

Deno.test("DenoProcess.pid() and hostname() describe this process and machine", () => {
  const processes = new DenoProcess();
  assert.equal(processes.pid(), Deno.pid);
  assert.equal(processes.hostname(), Deno.hostname());
});
