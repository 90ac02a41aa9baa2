/**
 * Command-line parsing for `jabberd <command> [options] [arguments]` with `node:util`'s strict
 * `parseArgs`: each command accepts its own options and number of arguments, and anything else
 * (an unknown `--flag`, a stray argument such as `check myconf.xml`) is a usage error, so a
 * mistyped option never silently falls back to a default.
 */
import { parseArgs as parseWithNode, type ParseArgsConfig } from "node:util";

export interface ParsedArgs {
  command: string | undefined;
  config: string | undefined;
  help: boolean;
  /** Arguments that are not options, after the command. */
  rest: string[];
  /** The command's own options: `--name value` as a string, a switch as `true`. */
  flags: Record<string, string | true>;
  /** What could not be understood, as sentences. */
  problems: string[];
}

type Options = NonNullable<ParseArgsConfig["options"]>;

interface CommandSpec {
  /** Options besides -c/--config and -h/--help. */
  options?: Options;
  /** How many arguments may follow the command. */
  args: [min: number, max: number];
}

/** Options every command takes. */
const COMMON: Options = {
  config: { type: "string", short: "c" },
  help: { type: "boolean", short: "h" },
};

const text = { type: "string" } as const;

/** The commands and what each accepts. */
export const COMMANDS: Record<string, CommandSpec> = {
  start: {
    // --supervised and --share-ports are hidden: a node started by the supervisor of --nodes
    // (src/cli/nodes.ts), sharing its listening ports with the other nodes.
    options: {
      "keep-going": { type: "boolean" },
      nodes: text,
      supervised: { type: "boolean" },
      "share-ports": { type: "boolean" },
    },
    args: [0, 0],
  },
  check: { options: { runtime: text }, args: [0, 0] },
  tree: { args: [0, 0] },
  version: { args: [0, 0] },
  status: { args: [0, 0] },
  sessions: { args: [0, 0] },
  stop: { args: [0, 0] },
  reload: { args: [0, 0] },
  help: { args: [0, 1] },
  user: { options: { password: text, force: { type: "boolean" } }, args: [1, 2] },
  import: { args: [1, Infinity] },
  export: { options: { host: text, output: { ...text, short: "o" } }, args: [0, 0] },
  // Hidden: the child process of <fork> (src/modules/base/fork.ts starts it).
  "fork-child": {
    options: { module: text, id: text, kind: text, dir: text, hosts: text, element: text },
    args: [0, 0],
  },
};

/** Every option of every command: enough to find the command word in a first, lenient pass. */
const ALL_OPTIONS: Options = Object.assign(
  {},
  COMMON,
  ...Object.values(COMMANDS).map((spec) => spec.options ?? {}),
);

export function parseArgs(args: readonly string[]): ParsedArgs {
  const parsed: ParsedArgs = {
    command: undefined,
    config: undefined,
    help: false,
    rest: [],
    flags: {},
    problems: [],
  };
  const first = parseWithNode({
    args: [...args],
    options: ALL_OPTIONS,
    strict: false,
    allowPositionals: true,
  });
  const command = first.positionals[0];
  const spec = command === undefined ? { args: [0, 0] } as CommandSpec : COMMANDS[command];
  parsed.command = command;
  // An unknown command is reported by the caller, which knows the list to point to.
  if (spec === undefined) return parsed;
  const where = command === undefined ? "jabberd" : `jabberd ${command}`;
  let values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  let positionals: string[];
  try {
    ({ values, positionals } = parseWithNode({
      args: [...args],
      options: { ...COMMON, ...spec.options },
      strict: true,
      allowPositionals: true,
    }));
  } catch (error) {
    parsed.problems.push(`${usageProblem(error)}; see ${where} --help`);
    return parsed;
  }
  for (const [name, value] of Object.entries(values)) {
    if (name === "config") parsed.config = value as string;
    else if (name === "help") parsed.help = value === true;
    else if (typeof value === "string" || value === true) parsed.flags[name] = value;
  }
  parsed.rest = positionals.slice(1);
  const [min, max] = spec.args;
  const count = parsed.rest.length;
  if (count > max) {
    const stray = parsed.rest[max];
    const hint = /\.xml$/i.test(stray) ? " (a config file is given with -c FILE)" : "";
    parsed.problems.push(
      `Unexpected argument "${stray}" for ${where}${hint}; see ${where} --help`,
    );
  } else if (count < min && !parsed.help) {
    parsed.problems.push(`${where} needs more arguments; see ${where} --help`);
  }
  return parsed;
}

/** `parseArgs`' error as a sentence of ours (its own messages are long and in Node's style). */
function usageProblem(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: string }).code;
  const option = /'(-[^', ]*)/.exec(message)?.[1] ?? "";
  switch (code) {
    case "ERR_PARSE_ARGS_UNKNOWN_OPTION":
      return `Unknown option ${option}`;
    case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
      return message.includes("argument missing")
        ? `Option ${option} needs a value`
        : `Option ${option} takes no value`;
    default:
      return message;
  }
}
