/**
 * `jabberd check`: validates the config and prints every problem; nothing starts. With
 * `--runtime NAME` it checks for that runtime (src/config/runtimes.ts) instead of the one it
 * runs on: `--runtime deploy` refuses what Deno Deploy cannot run (src/config/runtime_check.ts).
 */
import type { Adapters } from "../adapters/types.ts";
import { formatProblem } from "../config/mod.ts";
import { RUNTIMES } from "../config/runtimes.ts";
import { readConfig } from "./read_config.ts";

export async function runCheck(
  option: string | undefined,
  adapters: Adapters,
  runtimeName?: string,
): Promise<number> {
  let checked = adapters;
  if (runtimeName !== undefined) {
    if (!Object.hasOwn(RUNTIMES, runtimeName)) {
      adapters.stderr(
        `Unknown runtime "${runtimeName}" for jabberd check --runtime; write one of ` +
          `${Object.keys(RUNTIMES).join(", ")}\n`,
      );
      return 2;
    }
    // The files are still read from here: the check reads the config and its PEM files.
    checked = { ...adapters, runtime: RUNTIMES[runtimeName] };
  }
  const { description, problems } = await readConfig(option, checked);
  adapters.stderr(
    description + (checked.runtime ? `, checked for ${checked.runtime.name}` : "") + "\n",
  );
  for (const problem of problems) adapters.stderr(formatProblem(problem) + "\n");
  const errors = problems.filter((p) => p.severity === "error").length;
  const warnings = problems.length - errors;
  if (errors > 0) {
    adapters.stderr(`${errors} error(s), ${warnings} warning(s): the config is not usable\n`);
    return 1;
  }
  adapters.stdout(`The config is valid (${warnings} warning(s))\n`);
  return 0;
}
