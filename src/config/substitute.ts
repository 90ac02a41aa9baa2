/**
 * Environment variables in the config file (docs/architecture.md "The config file"): `${NAME}` and
 * `${NAME:-default}` in text and attribute values. `$${` writes a literal `${`.
 */
import type { Element } from "../xml/element.ts";

/** Reads one environment variable; undefined when it is not set. */
export type EnvReader = (name: string) => string | undefined;

export interface SubstitutionResult {
  value: string;
  /** One sentence per reference that could not be filled in. */
  problems: string[];
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Replaces every `${NAME}` and `${NAME:-default}` in `text`. As in the POSIX shell, the default
 * applies when the variable is unset or empty; an unset variable without a default is a problem
 * (the reference is left as written so the value stays recognizable).
 */
export function substitute(text: string, env: EnvReader): SubstitutionResult {
  if (!text.includes("$")) return { value: text, problems: [] };
  const problems: string[] = [];
  let value = "";
  let index = 0;
  while (index < text.length) {
    const start = text.indexOf("$", index);
    if (start < 0) break;
    value += text.slice(index, start);
    if (text.startsWith("$${", start)) {
      value += "${";
      index = start + 3;
      continue;
    }
    if (text[start + 1] !== "{") {
      value += "$";
      index = start + 1;
      continue;
    }
    const end = text.indexOf("}", start + 2);
    if (end < 0) {
      problems.push(
        `"${text.slice(start)}" has no closing brace; write \${NAME}, or $\${ for a literal \${`,
      );
      value += text.slice(start);
      index = text.length;
      break;
    }
    const inner = text.slice(start + 2, end);
    const split = inner.indexOf(":-");
    const name = split < 0 ? inner : inner.slice(0, split);
    const fallback = split < 0 ? undefined : inner.slice(split + 2);
    index = end + 1;
    if (!NAME.test(name)) {
      problems.push(
        `"\${${inner}}" does not name an environment variable; names are letters, digits and ` +
          `underscores, such as \${JABBERD_HOST}`,
      );
      value += text.slice(start, index);
      continue;
    }
    const found = env(name);
    if (found !== undefined && (found !== "" || fallback === undefined)) {
      value += found;
    } else if (fallback !== undefined) {
      value += fallback;
    } else {
      problems.push(
        `Environment variable ${name} is not set; set it or write \${${name}:-default}`,
      );
      value += text.slice(start, index);
    }
  }
  value += text.slice(index);
  return { value, problems };
}

/**
 * Substitutes in every text node and attribute value under `root` (namespace declarations
 * excepted: the parser has already resolved them). `report` gets the element a problem is in.
 */
export function substituteTree(
  root: Element,
  env: EnvReader,
  report: (at: Element, message: string) => void,
): void {
  for (const key of Object.keys(root.attrs)) {
    if (key === "xmlns" || key.startsWith("xmlns:")) continue;
    const result = substitute(root.attrs[key], env);
    root.attrs[key] = result.value;
    for (const message of result.problems) report(root, message);
  }
  for (let i = 0; i < root.children.length; i++) {
    const child = root.children[i];
    if (typeof child === "string") {
      const result = substitute(child, env);
      root.children[i] = result.value;
      for (const message of result.problems) report(root, message);
    } else {
      substituteTree(child, env, report);
    }
  }
}
