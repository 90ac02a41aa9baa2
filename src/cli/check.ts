/** `jabberd check`: validates the config and prints every problem; nothing starts. */
import type { Adapters } from "../adapters/types.ts";
import { formatProblem } from "../config/mod.ts";
import { readConfig } from "./read_config.ts";

export async function runCheck(option: string | undefined, adapters: Adapters): Promise<number> {
  const { description, problems } = await readConfig(option, adapters);
  adapters.stderr(description + "\n");
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
