/**
 * The command-line interface: parses the arguments and runs a command. Runtime-free: `main.ts`
 * passes the Deno adapters in, tests pass the memory ones.
 */
import type { Adapters } from "../adapters/types.ts";
import type { CliContext } from "./context.ts";
import { NAME, VERSION } from "../version.ts";
import { parseArgs } from "./args.ts";
import { runCheck } from "./check.ts";
import { runExport } from "./export.ts";
import { runForkChild } from "./fork_child.ts";
import { COMMAND_HELP, USAGE } from "./help.ts";
import { runImport } from "./import.ts";
import { runProcessCommand } from "./pidfile.ts";
import { runSessions } from "./admin_client.ts";
import { formatProblem } from "../config/mod.ts";
import { readConfig } from "./read_config.ts";
import { runStart } from "./start.ts";
import { runTree } from "./tree.ts";
import { runUser } from "./user.ts";

export type { CliContext } from "./context.ts";

/** Runs a command; resolves with the process exit code. */
export async function runCli(args: readonly string[], context: CliContext): Promise<number> {
  const parsed = parseArgs(args);
  const { adapters } = context;
  if (parsed.problems.length > 0) {
    for (const problem of parsed.problems) adapters.stderr(problem + "\n");
    return 2;
  }
  // Hidden: the child process of <fork>, started by the server, not by people.
  if (parsed.command === "fork-child") return await runForkChild(parsed.flags, context);
  if (parsed.command === undefined || parsed.command === "help") {
    const topic = parsed.rest[0];
    if (topic !== undefined) {
      if (!COMMAND_HELP[topic]) return unknownCommand(topic, adapters);
      adapters.stdout(COMMAND_HELP[topic]);
      return 0;
    }
    (parsed.command === undefined && !parsed.help ? adapters.stderr : adapters.stdout)(USAGE);
    return parsed.command === undefined && !parsed.help ? 2 : 0;
  }
  const help = COMMAND_HELP[parsed.command];
  if (help === undefined) return unknownCommand(parsed.command, adapters);
  if (parsed.help) {
    adapters.stdout(help);
    return 0;
  }
  switch (parsed.command) {
    case "version":
      adapters.stdout(`${NAME} ${VERSION}\n`);
      return 0;
    case "check":
      return await runCheck(
        parsed.config,
        adapters,
        typeof parsed.flags.runtime === "string" ? parsed.flags.runtime : undefined,
      );
    case "tree":
      return await runTree(parsed.config, adapters, context.dryAdapters());
    case "start":
      return await runStart(parsed.config, adapters, {
        keepGoing: parsed.flags["keep-going"] === true,
        processes: context.processes,
        hooks: context.start,
        nodes: typeof parsed.flags.nodes === "string" ? parsed.flags.nodes : undefined,
        supervised: parsed.flags.supervised === true,
        sharePorts: parsed.flags["share-ports"] === true,
        readStdin: context.readStdin,
      });
    case "status":
    case "stop":
    case "reload":
      return await runProcessCommand(parsed.command, parsed.config, adapters, context.processes);
    case "sessions": {
      const source = await readConfig(parsed.config, adapters);
      const errors = source.problems.filter((p) => p.severity === "error");
      if (!source.config || errors.length > 0) {
        for (const problem of errors) adapters.stderr(formatProblem(problem) + "\n");
        return 1;
      }
      return await runSessions(source.config, adapters);
    }
    case "user":
      return await runUser(parsed.rest, parsed.flags, parsed.config, context);
    case "import":
      return await runImport(parsed.rest, parsed.config, context);
    case "export":
      return await runExport(parsed.flags, parsed.config, context);
    default:
      return 2;
  }
}

function unknownCommand(command: string, adapters: Adapters): number {
  adapters.stderr(`Unknown command "${command}"; run jabberd --help for the list\n`);
  return 2;
}
