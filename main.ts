/**
 * The entry point and composition root: `deno run -A main.ts <command>`. The only place that
 * picks the Deno adapters and talks to the process.
 */
import process from "node:process";
import { denoAdapters } from "./src/adapters/deno/mod.ts";
import { memoryAdapters } from "./src/adapters/memory/mod.ts";
import { runCli } from "./src/cli/mod.ts";
import type { ProcessControl } from "./src/cli/pidfile.ts";
import { missingV8Flags, V8_FLAGS_ARGUMENT } from "./src/adapters/deno/v8_flags.ts";

/** One line of standard input (a password given as `echo secret | jabberd user add …`). */
async function readStdinLine(): Promise<string> {
  const reader = Deno.stdin.readable.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    while (!text.includes("\n")) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    reader.releaseLock();
  }
  return text.split("\n")[0].replace(/\r$/, "");
}

/** Standard input in chunks, for `fork-child` (the child of `<fork>` reads its parent's link). */
function readStdin(onData: (chunk: Uint8Array) => void, onEnd: () => void): void {
  const reader = Deno.stdin.readable.getReader();
  (async () => {
    try {
      while (true) {
        const { value, done } = await reader.read();
        if (done) break;
        onData(value);
      }
    } catch {
      // The parent went away: the same as the end of input.
    }
    onEnd();
  })();
}

/** The process table, for the pidfile and `jabberd status|stop|reload`. */
const processes: ProcessControl = {
  pid: Deno.pid,
  isRunning(pid) {
    try {
      // Signal 0 checks that the process exists without disturbing it (Deno.kill has no 0).
      process.kill(pid, 0);
      return true;
    } catch (error) {
      // EPERM: it exists but belongs to another user.
      return (error as { code?: string }).code === "EPERM";
    }
  },
  signal(pid, signal) {
    try {
      Deno.kill(pid, signal);
      return true;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return false;
      throw error;
    }
  },
  async modifiedAt(path) {
    try {
      return (await Deno.stat(path)).mtime ?? undefined;
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) return undefined;
      throw error;
    }
  },
  async removeFile(path) {
    try {
      await Deno.remove(path);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  },
};

if (import.meta.main) {
  const missing = Deno.args[0] === "start" ? missingV8Flags() : [];
  if (missing.length > 0) {
    // Said once, before the config is read: the server runs, but with GC pauses of 10-20 ms and
    // up to twice the CPU per routed message (docs/runtime-notes.md, "Garbage collection").
    console.error(
      `jabberd: running without the V8 flag ${missing.join(",")}; routing costs up to twice ` +
        `the CPU and GC pauses reach 10-20 ms. Start it with \`deno task start\` or ` +
        `\`deno run -A ${V8_FLAGS_ARGUMENT} main.ts start\`.`,
    );
  }
  const code = await runCli(Deno.args, {
    adapters: denoAdapters(),
    dryAdapters: () => memoryAdapters().adapters,
    readStdinLine,
    readStdin,
    stdinIsTerminal: Deno.stdin.isTerminal(),
    stderrIsTerminal: Deno.stderr.isTerminal(),
    processes,
  });
  Deno.exit(code);
}
