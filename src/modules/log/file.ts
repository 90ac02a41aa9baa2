/**
 * `<file rotate="10MiB" keep="5">error.log</file>` in a `<log>` section (jabberd 1.4's
 * base_file): appends each line to a file, relative to the config file's folder, rotating by
 * size (`error.log` → `error.log.1` → … → `error.log.5`; the oldest is overwritten).
 *
 * Written by hand over `api.adapters.files` rather than with `@logtape/file` (1.3.6): that
 * package opens, writes, stats and renames files itself with Deno's synchronous file calls
 * (`openSync`, `statSync`, `renameSync`): its driver interface is synchronous and its entry
 * exports only the Deno-bound sinks, so it cannot go through the asynchronous file adapter, would
 * put runtime calls in the core, and could not be tested on the in-memory file system.
 *
 * Lines written while an append is in flight, or in the same tick, are coalesced into one append:
 * at most one write is pending per file, whatever the log rate. Unloading the module waits for
 * everything written so far to reach the file.
 */
import type { FileAdapter } from "../../adapters/types.ts";
import { integer, options, size } from "../../config/options.ts";
import type { ModuleDefinition } from "../../server/module_api.ts";
import { describe } from "../../util/errors.ts";
import { registerSink } from "./line.ts";

/** How many rotated files are kept when `keep` is not written (as `@logtape/file`). */
export const DEFAULT_KEEP = 5;

export interface FileAppenderOptions {
  files: FileAdapter;
  path: string;
  /** Rotate before an append would make the file larger than this; undefined never rotates. */
  rotateBytes?: number;
  /** How many rotated files to keep (at least 1). */
  keep?: number;
  /**
   * Told when an append fails (its lines are dropped), once per run of failures: the next
   * failure is reported only after an append has succeeded again.
   */
  onError(error: unknown): void;
}

/** Buffered, coalescing, size-rotating appends to one file. */
export class FileAppender {
  readonly #options: FileAppenderOptions;
  readonly #keep: number;
  readonly #encoder = new TextEncoder();
  #buffer: string[] = [];
  #draining: Promise<void> | undefined;
  #failing = false;
  #folderChecked = false;

  constructor(options: FileAppenderOptions) {
    this.#options = options;
    this.#keep = Math.max(1, options.keep ?? DEFAULT_KEEP);
  }

  /** Queues text (already ending with a line break) for the next append. */
  write(text: string): void {
    this.#buffer.push(text);
    this.#draining ??= this.#drain();
  }

  /** Resolves once everything written so far is in the file (or failed). */
  flush(): Promise<void> {
    return this.#draining ?? Promise.resolve();
  }

  async #drain(): Promise<void> {
    // Let the rest of this tick write first, so a burst becomes one append.
    await Promise.resolve();
    while (this.#buffer.length > 0) {
      const chunk = this.#buffer.join("");
      this.#buffer = [];
      try {
        await this.#append(chunk);
        this.#failing = false;
      } catch (error) {
        if (!this.#failing) this.#options.onError(error);
        this.#failing = true;
      }
    }
    this.#draining = undefined;
  }

  async #append(chunk: string): Promise<void> {
    const { files, path, rotateBytes } = this.#options;
    if (!this.#folderChecked) {
      // `<file>logs/error.log</file>` should work on a fresh install: make the folder once.
      const slash = path.lastIndexOf("/");
      const folder = slash > 0 ? path.slice(0, slash) : undefined;
      if (folder && !(await files.exists(folder))) await files.mkdir(folder);
      this.#folderChecked = true;
    }
    if (rotateBytes !== undefined) {
      // Asked every time rather than counted: an outside tool (logrotate) may have moved it.
      const size = (await files.size(path)) ?? 0;
      const bytes = this.#encoder.encode(chunk).length;
      if (size > 0 && size + bytes > rotateBytes) await this.#rotate();
    }
    await files.writeTextFile(path, chunk, { append: true });
  }

  async #rotate(): Promise<void> {
    const { files, path } = this.#options;
    for (let i = this.#keep - 1; i >= 1; i--) {
      const older = `${path}.${i}`;
      if (await files.exists(older)) await files.rename(older, `${path}.${i + 1}`);
    }
    await files.rename(path, `${path}.1`);
  }
}

/** Without `keep`, `FileAppender` keeps `DEFAULT_KEEP` files. */
const FILE = options({
  rotate: size(undefined, { positive: true }),
  keep: integer(undefined, { min: 1 }),
});

export const fileModule: ModuleDefinition = {
  element: "file",
  sections: ["log"],
  validate(element, context) {
    if (element.text().trim() === "") {
      context.problem(element, "<file> needs a path, such as <file>error.log</file>");
    }
    const { rotate, keep } = FILE.validate(element, context);
    if (keep !== undefined && rotate === undefined) {
      context.warning(element, `keep="${keep}" does nothing without rotate="…", such as 10MiB`);
    }
  },
  register(api) {
    const path = api.resolvePath(api.config.text().trim());
    const { rotate, keep } = FILE.read(api.config);
    const appender = new FileAppender({
      files: api.adapters.files,
      path,
      rotateBytes: rotate,
      keep,
      onError(error) {
        // On standard error, never through api.log: the report would come back to this file.
        api.adapters.stderr(`Cannot write log file ${path}: ${describe(error)}\n`);
      },
    });
    registerSink(api, (line) => appender.write(line + "\n"));
    api.onUnload(() => appender.flush());
  },
};
