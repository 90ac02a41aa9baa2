/**
 * The entry point and composition root: `deno run -A main.ts <command>`. The only place that
 * picks the Deno adapters and talks to the process.
 */
import { denoAdapters } from "./src/adapters/deno/mod.ts";
import { memoryAdapters } from "./src/adapters/memory/mod.ts";
import { runCli } from "./src/cli/mod.ts";

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

if (import.meta.main) {
  const code = await runCli(Deno.args, {
    adapters: denoAdapters(),
    dryAdapters: () => memoryAdapters().adapters,
    readStdinLine,
    readStdin,
    stdinIsTerminal: Deno.stdin.isTerminal(),
    stderrIsTerminal: Deno.stderr.isTerminal(),
  });
  Deno.exit(code);
}
