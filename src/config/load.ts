/**
 * Reads a config file into a validated `Config` (docs/architecture.md "The config file"): parse,
 * expand `<include>`, substitute `${NAME}`, validate, and return every problem at once with its
 * place.
 *
 * `<include>path</include>` may appear anywhere. The path is relative to the including file. The
 * included file's root element replaces the `<include>`; when that root has the same name as the
 * element the `<include>` sits in, its children are inserted instead (jabberd 1.4's rule), so a
 * file rooted at `<jabberd>` can bring several sections and one rooted at `<service>` several
 * settings of a service. A cycle of includes is a problem.
 */
import { dirname, isAbsolute, join, normalize } from "node:path";
import type { RuntimeCapabilities } from "../adapters/types.ts";
import type { ModuleDefinition } from "../server/module_api.ts";
import { parseDocument } from "../xml/document.ts";
import type { Element } from "../xml/element.ts";
import { positionOf, type Positions, type Problem, sortProblems } from "./problem.ts";
import { checkFiles } from "./file_check.ts";
import { type EnvReader, substituteTree } from "./substitute.ts";
import { type SectionConfig, validateConfig } from "./validate.ts";

/** What loading needs from the outside world (the adapters provide it; tests use a Map). */
export interface ConfigIo {
  readTextFile(path: string): Promise<string>;
  env: EnvReader;
  /** The runtime the config will run on (`Adapters.runtime`): what it cannot run is refused. */
  runtime?: RuntimeCapabilities;
}

/** A loaded config that passed validation (it may still carry warnings). */
export interface Config {
  /** The `<jabberd>` element, includes expanded and variables substituted. */
  root: Element;
  /** Sections in load order, each with its modules in the order written. */
  sections: SectionConfig[];
  /** The main config file's path as given (or the virtual path of an embedded config). */
  file: string;
  /** Where each element was written, for messages at run time. */
  positions: Positions;
}

export interface LoadResult {
  /** Present when no problem is an error. */
  config?: Config;
  /** Errors and warnings, ordered by file (main file first), line and column. */
  problems: Problem[];
}

/** Reads, expands, substitutes and validates the config file at `path`. */
export async function loadConfig(
  path: string,
  io: ConfigIo,
  modules: readonly ModuleDefinition[],
): Promise<LoadResult> {
  let text: string;
  try {
    text = await io.readTextFile(path);
  } catch (cause) {
    return {
      problems: [{
        file: path,
        line: 0,
        column: 0,
        message: `Cannot read the config file: ${reasonOf(cause)}`,
        severity: "error",
      }],
    };
  }
  return await loadConfigText(text, path, io, modules);
}

/**
 * Like `loadConfig` for text already in hand (the embedded default config). `virtualPath` names
 * it in messages and anchors relative `<include>` paths.
 */
export async function loadConfigText(
  text: string,
  virtualPath: string,
  io: ConfigIo,
  modules: readonly ModuleDefinition[],
): Promise<LoadResult> {
  const loader = new Loader(io);
  const root = await loader.parse(text, virtualPath, []);
  if (!root) return { problems: sortProblems(loader.problems, loader.files) };
  const validation = validateConfig(root, loader.positions, modules, virtualPath, io.runtime);
  // A certificate `start` could not read is refused here, not when its section starts
  // (file_check.ts); paths are relative to the main config file's folder, as at start.
  const unreadable = (await checkFiles(validation.sections, virtualPath, io.readTextFile)).map(
    ({ at, message }): Problem => ({
      ...positionOf(at, loader.positions, virtualPath),
      message,
      severity: "error",
    }),
  );
  const problems = sortProblems(
    [...loader.problems, ...validation.problems, ...unreadable],
    loader.files,
  );
  if (problems.some((problem) => problem.severity === "error")) return { problems };
  return {
    config: { root, sections: validation.sections, file: virtualPath, positions: loader.positions },
    problems,
  };
}

class Loader {
  readonly positions: Positions = new WeakMap();
  readonly problems: Problem[] = [];
  /** Files in the order they were read, to sort problems by. */
  readonly files: string[] = [];
  readonly #io: ConfigIo;

  constructor(io: ConfigIo) {
    this.#io = io;
  }

  /** Parses one file, substitutes variables, expands its includes; undefined if malformed. */
  async parse(text: string, file: string, including: string[]): Promise<Element | undefined> {
    if (!this.files.includes(file)) this.files.push(file);
    let document;
    try {
      document = parseDocument(text, file);
    } catch (cause) {
      this.problems.push(parseProblem(cause, file));
      return undefined;
    }
    const record = (element: Element) => {
      const position = document.positions.get(element);
      if (position) this.positions.set(element, { file, ...position });
      for (const child of element.elements) record(child);
    };
    record(document.root);
    substituteTree(document.root, this.#io.env, (at, message) => this.#error(at, file, message));
    await this.#expand(document.root, file, [...including, file]);
    return document.root;
  }

  /** Replaces each `<include>` under `element` by what its file holds. */
  async #expand(element: Element, file: string, chain: string[]): Promise<void> {
    for (let i = 0; i < element.children.length; i++) {
      const child = element.children[i];
      if (typeof child === "string") continue;
      if (child.name !== "include") {
        await this.#expand(child, file, chain);
        continue;
      }
      const inserted = await this.#include(child, element, file, chain);
      for (const node of inserted) if (typeof node !== "string") node.parent = element;
      element.children.splice(i, 1, ...inserted);
      // What was inserted is already expanded (and its own includes checked for cycles).
      i += inserted.length - 1;
    }
  }

  async #include(
    include: Element,
    parent: Element,
    file: string,
    chain: string[],
  ): Promise<(Element | string)[]> {
    const written = include.text().trim();
    if (written === "" || include.elements.length > 0) {
      this.#error(
        include,
        file,
        "<include> holds only the path of a file to insert, such as " +
          "<include>jabberd.d/logging.xml</include>",
      );
      return [];
    }
    const target = isAbsolute(written) ? normalize(written) : join(dirname(file), written);
    if (chain.includes(target)) {
      const cycle = [...chain.slice(chain.indexOf(target)), target].join(" → ");
      this.#error(
        include,
        file,
        `<include>${written}</include> makes a cycle (${cycle}); remove one of these includes`,
      );
      return [];
    }
    let text: string;
    try {
      text = await this.#io.readTextFile(target);
    } catch (cause) {
      this.#error(include, file, `Cannot read included file "${target}": ${reasonOf(cause)}`);
      return [];
    }
    const root = await this.parse(text, target, chain);
    if (!root) return [];
    return root.name === parent.name ? root.children : [root];
  }

  #error(at: Element, file: string, message: string): void {
    this.problems.push({ ...positionOf(at, this.positions, file), message, severity: "error" });
  }
}

/** A parse error as a problem; the XML parser puts file:line:column in front of its message. */
function parseProblem(cause: unknown, file: string): Problem {
  const text = reasonOf(cause);
  const position = (cause as { position?: { file?: string; line?: number; column?: number } })
    ?.position;
  if (position?.line !== undefined && position.column !== undefined) {
    const prefix = `${position.file ?? file}:${position.line}:${position.column}: `;
    return {
      file: position.file ?? file,
      line: position.line,
      column: position.column,
      message: text.startsWith(prefix) ? text.slice(prefix.length) : text,
      severity: "error",
    };
  }
  const match = /^(.*):(\d+):(\d+): (.*)$/s.exec(text);
  if (match) {
    return {
      file: match[1],
      line: Number(match[2]),
      column: Number(match[3]),
      message: match[4],
      severity: "error",
    };
  }
  return { file, line: 0, column: 0, message: text, severity: "error" };
}

function reasonOf(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
