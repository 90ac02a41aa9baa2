/**
 * Typed reads of a module's settings (DESIGN "The module API", "typed option getters"): each
 * option is an attribute of the module's element or the text of a child element of that name,
 * `<cache timeout="30s"/>` or `<cache><timeout>30s</timeout></cache>`; the attribute wins.
 */
import type { OptionReader } from "../server/module_api.ts";
import type { Element } from "../xml/element.ts";
import { parseDuration, parseSize } from "./units.ts";

const TRUE_WORDS = new Set(["true", "yes", "on", "1"]);
const FALSE_WORDS = new Set(["false", "no", "off", "0"]);
const INTEGER = /^[+-]?\d+$/;

/**
 * An `OptionReader` over `element`. A value that does not parse throws an error whose message
 * names the option and the element, so a validator can pass it on to `context.problem` as is.
 */
export function optionReader(element: Element): OptionReader {
  /** The raw value: the attribute as written, else the child's text trimmed, else undefined. */
  const raw = (name: string): string | undefined => {
    const attribute = element.attr(name);
    if (attribute !== undefined) return attribute;
    return element.getChild(name)?.text().trim();
  };
  const invalid = (name: string, message: string) =>
    new Error(`Option "${name}" of <${element.name}> is invalid: ${lowerFirst(message)}`);
  const parsed = <T>(name: string, fallback: T | undefined, parse: (value: string) => T) => {
    const value = raw(name);
    if (value === undefined) return fallback;
    try {
      return parse(value);
    } catch (cause) {
      throw invalid(name, cause instanceof Error ? cause.message : String(cause));
    }
  };

  return {
    string: (name, fallback) => raw(name) ?? fallback,
    integer: (name, fallback) =>
      parsed(name, fallback, (value) => {
        const trimmed = value.trim();
        const number = Number(trimmed);
        if (!INTEGER.test(trimmed) || !Number.isSafeInteger(number)) {
          throw new Error(`"${value}" is not a whole number; write digits such as 5222`);
        }
        return number;
      }),
    boolean(name, fallback) {
      // An empty `<name/>` child switches a flag on, as jabber.xml's `<ssl/>` did.
      const child = element.attr(name) === undefined ? element.getChild(name) : undefined;
      if (child && child.children.length === 0) return true;
      return parsed(name, fallback, (value) => {
        const word = value.trim().toLowerCase();
        if (TRUE_WORDS.has(word)) return true;
        if (FALSE_WORDS.has(word)) return false;
        throw new Error(`"${value}" is not a yes or no; write true or false`);
      });
    },
    duration: (name, fallback) => parsed(name, fallback, parseDuration),
    size: (name, fallback) => parsed(name, fallback, parseSize),
  };
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
