/** Command-line parsing for `jabberd <command> [-c FILE] [--help]`: small enough to write by hand. */

export interface ParsedArgs {
  command: string | undefined;
  config: string | undefined;
  help: boolean;
  /** Arguments that are not options, after the command. */
  rest: string[];
  /** `--name value` and `--name=value` options other than -c/--config/--help. */
  flags: Record<string, string | true>;
  /** What could not be understood, as sentences. */
  problems: string[];
}

/** Options that take a value (the rest are boolean switches). */
const VALUE_OPTIONS = new Set(["config", "password", "host", "output"]);

export function parseArgs(args: readonly string[]): ParsedArgs {
  const parsed: ParsedArgs = {
    command: undefined,
    config: undefined,
    help: false,
    rest: [],
    flags: {},
    problems: [],
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "-h" || arg === "--help") parsed.help = true;
    else if (arg === "-c" || arg === "-o" || arg.startsWith("--")) {
      const [name, inline] = arg === "-c"
        ? ["config", undefined]
        : arg === "-o"
        ? ["output", undefined]
        : splitOption(arg.slice(2));
      if (!VALUE_OPTIONS.has(name)) {
        parsed.flags[name] = inline ?? true;
        continue;
      }
      const value = inline ?? args[++i];
      if (value === undefined) parsed.problems.push(`Option ${arg} needs a value`);
      else if (name === "config") parsed.config = value;
      else parsed.flags[name] = value;
    } else if (arg.startsWith("-") && arg !== "-") {
      parsed.problems.push(`Unknown option ${arg}; see --help`);
    } else if (parsed.command === undefined) parsed.command = arg;
    else parsed.rest.push(arg);
  }
  return parsed;
}

function splitOption(option: string): [string, string | undefined] {
  const eq = option.indexOf("=");
  return eq < 0 ? [option, undefined] : [option.slice(0, eq), option.slice(eq + 1)];
}
