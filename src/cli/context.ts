/**
 * What a command gets from its caller: the adapters and the process's own streams and table.
 * `main.ts` fills it from Deno; tests fill it with memory adapters.
 */
import type { Adapters } from "../adapters/types.ts";
import type { ProcessControl } from "./pidfile.ts";
import type { StartHooks } from "./start.ts";

export interface CliContext {
  adapters: Adapters;
  /**
   * Adapters with no side effects, for `tree` (it builds the real tree without real I/O); `tree`
   * lays `adapters.files` under their files, read-only (dry_files.ts), so named files are found.
   */
  dryAdapters: () => Adapters;
  /** For `start`: called once the server runs, with a function that stops it. */
  start?: StartHooks;
  /**
   * Reads standard input up to the first line break or its end (`user add|passwd` without
   * `--password`). Absent: the password must come from `--password`.
   */
  readStdinLine?: () => Promise<string>;
  /** True when standard input is a terminal (then `user add` prompts for the password). */
  stdinIsTerminal?: boolean;
  /** True when standard error is a terminal (then `import` draws a progress bar). */
  stderrIsTerminal?: boolean;
  /** Streams standard input in chunks, then calls `onEnd` (the hidden `fork-child` command). */
  readStdin?: (onData: (chunk: Uint8Array) => void, onEnd: () => void) => void;
  /** The process table: the pidfile of `start`, and `status`, `stop`, `reload`. */
  processes?: ProcessControl;
}
