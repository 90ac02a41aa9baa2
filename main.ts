/**
 * The entry point and composition root: `deno run -A main.ts <command>`. The only place that
 * picks the Deno adapters and talks to the process.
 */
import { denoAdapters } from "./src/adapters/deno/mod.ts";
import { memoryAdapters } from "./src/adapters/memory/mod.ts";
import { runCli } from "./src/cli/mod.ts";

if (import.meta.main) {
  const code = await runCli(Deno.args, {
    adapters: denoAdapters(),
    dryAdapters: () => memoryAdapters().adapters,
  });
  Deno.exit(code);
}
