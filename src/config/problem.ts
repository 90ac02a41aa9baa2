/**
 * What `jabberd check` reports about a config file (docs/architecture.md "The config file"): each problem with
 * its file:line:column and a sentence that says how to fix it.
 */
import type { Element } from "../xml/element.ts";

/** Where an element was written: the file it came from (after includes), line and column. */
export interface SourcePosition {
  file: string;
  line: number;
  column: number;
}

/** Source positions of the config's elements; included elements point into their own file. */
export type Positions = WeakMap<Element, SourcePosition>;

export interface Problem {
  file: string;
  /** 1-based; 0 when the problem concerns the whole file (it could not be read). */
  line: number;
  column: number;
  message: string;
  /** An error stops the server from starting; a warning is legal but probably not meant. */
  severity: "error" | "warning";
}

/** `file:line:column: message`, as compilers write it (so editors can jump to it). */
export function formatProblem(problem: Problem): string {
  const where = problem.line > 0
    ? `${problem.file}:${problem.line}:${problem.column}`
    : problem.file;
  const prefix = problem.severity === "warning" ? "warning: " : "";
  return `${where}: ${prefix}${problem.message}`;
}

/**
 * The position of `element`, or of its nearest ancestor that has one (elements a validator
 * builds have none), or the start of `fallbackFile`.
 */
export function positionOf(
  element: Element,
  positions: Positions,
  fallbackFile: string,
): SourcePosition {
  for (let el: Element | undefined = element; el; el = el.parent) {
    const position = positions.get(el);
    if (position) return position;
  }
  return { file: fallbackFile, line: 0, column: 0 };
}

/**
 * Orders problems by file (in the order the files were read, so the main file comes first), then
 * line and column. The sort is stable: problems at one place keep the order they were found in.
 */
export function sortProblems(problems: Problem[], fileOrder: readonly string[]): Problem[] {
  const rank = (file: string) => {
    const index = fileOrder.indexOf(file);
    return index < 0 ? fileOrder.length : index;
  };
  return [...problems].sort((a, b) =>
    rank(a.file) - rank(b.file) || a.line - b.line || a.column - b.column
  );
}
