/**
 * The kinds of value an option may hold (docs/module-api.md, "Options"): text, whole numbers and
 * ports, yes or no, one of some words, durations and sizes as the config file writes them (`30s`,
 * `10MiB`), or anything a parse function accepts. Each reads an attribute or a child's text, and
 * reports a wrong value at the element that holds it with a sentence that says what to write.
 */
import type { ValidationContext } from "../server/module_api.ts";
import type { Element } from "../xml/element.ts";
import { parseDuration, parseSize } from "./units.ts";

/** Where reading reports: `validate` passes problems on; `read` throws at the first. */
export interface Sink extends ValidationContext {
  /** Whether names nobody declared are problems (`validate` only: `read` trusts `check`). */
  readonly checkNames: boolean;
}

/** One declared option, made by the functions here and in options.ts. */
export interface Option<T> {
  /** `value`: an attribute or a child's text; `element`: child elements only. */
  readonly form: "value" | "element";
  /** Reads option `name` of `owner`; what is missing or wrong reads as the default. */
  take(owner: Element, name: string, sink: Sink): T;
  /** Reads one child element written for the option (an item of a `list`); undefined if wrong. */
  takeChild(owner: Element, child: Element, name: string, sink: Sink): T | undefined;
}

/** What `#convert` returns for empty or wrong text, already reported. */
const FAILED = Symbol("failed");

/** One value from text: an attribute or a child's text. `parse` throws a sentence on bad text. */
export class Scalar<T> implements Option<T> {
  readonly form = "value";
  readonly #parse: (text: string) => T;
  readonly #fallback: T;
  readonly #needs: string | undefined;
  /** The value of an empty child element (`<tls/>` for a flag); otherwise empty is a problem. */
  readonly #empty: T | undefined;

  constructor(
    parse: (text: string) => T,
    fallback: T,
    needs?: string,
    empty?: T,
  ) {
    this.#parse = parse;
    this.#fallback = fallback;
    this.#needs = needs;
    this.#empty = empty;
  }

  /** Makes the option required: `what` ends the sentence `<owner> needs …` when it is absent. */
  required(what: string): Scalar<Exclude<T, undefined>> {
    // Never undefined once required: a missing value is a problem (`validate` documents it).
    type Present = Exclude<T, undefined>;
    const parse = this.#parse as (text: string) => Present;
    return new Scalar<Present>(parse, undefined as Present, what, this.#empty as Present);
  }

  take(owner: Element, name: string, sink: Sink): T {
    const attribute = owner.attr(name);
    if (attribute !== undefined) {
      const value = this.#convert(owner, owner, name, attribute, sink);
      return value === FAILED ? this.#fallback : value;
    }
    const [child] = onlyChild(owner, name, sink);
    if (child) {
      const value = this.#convertChild(owner, child, name, sink);
      return value === FAILED ? this.#fallback : value;
    }
    if (this.#needs !== undefined) sink.problem(owner, `<${owner.local}> needs ${this.#needs}`);
    return this.#fallback;
  }

  takeChild(owner: Element, child: Element, name: string, sink: Sink): T | undefined {
    const value = this.#convertChild(owner, child, name, sink);
    return value === FAILED ? undefined : value;
  }

  #convertChild(owner: Element, child: Element, name: string, sink: Sink): T | typeof FAILED {
    const text = child.text().trim();
    if (text === "" && child.elements.length === 0 && this.#empty !== undefined) return this.#empty;
    return this.#convert(owner, child, name, text, sink);
  }

  /** The parsed value, or FAILED when the text is empty or wrong (reported at `at`). */
  #convert(
    owner: Element,
    at: Element,
    name: string,
    text: string,
    sink: Sink,
  ): T | typeof FAILED {
    const option = `Option "${name}" of <${owner.local}>`;
    if (text.trim() === "") {
      sink.problem(at, `${option} is empty; write a value or leave it out`);
      return FAILED;
    }
    try {
      return this.#parse(text);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      sink.problem(at, `${option} is invalid: ${reason.charAt(0).toLowerCase()}${reason.slice(1)}`);
      return FAILED;
    }
  }
}

/** Every `<name>` child of `owner` must be single; a second one is reported and ignored. */
export function onlyChild(owner: Element, name: string, sink: Sink): Element[] {
  const children = owner.getChildren(name);
  for (const extra of children.slice(1)) {
    sink.problem(extra, `<${owner.local}> has more than one <${name}>; keep one`);
  }
  return children;
}

/** `a`, `a and b`, `a, b and c`. */
export function and(words: readonly string[], last = "and"): string {
  return words.length < 2
    ? words.join("")
    : `${words.slice(0, -1).join(", ")} ${last} ${words[words.length - 1]}`;
}

// The kinds of value. Each takes the default first; without one, an absent option is undefined.

/** Text as written (a child's text trimmed); empty is a problem. */
export function string<F extends string | undefined = undefined>(fallback?: F): Scalar<string | F> {
  return new Scalar<string | F>((text) => text, fallback as F);
}

/** What the text means, by `parse`, which throws an error whose message says what to write. */
export function value<T, F extends T | undefined = undefined>(
  parse: (text: string) => T,
  fallback?: F,
): Scalar<T | F> {
  return new Scalar<T | F>((text) => parse(text.trim()), fallback as F);
}

/** Bounds of a number, both included. */
export interface Range {
  min?: number;
  max?: number;
}

const INTEGER = /^[+-]?\d+$/;

function wholeNumber(range: Range, example: number, what = "a whole number") {
  const { min, max } = range;
  return (text: string): number => {
    const number = Number(text.trim());
    if (!INTEGER.test(text.trim()) || !Number.isSafeInteger(number)) {
      throw new Error(`"${text}" is not a whole number; write digits such as ${example}`);
    }
    if (min !== undefined && max !== undefined && (number < min || number > max)) {
      throw new Error(`${number} is out of range; write ${what} from ${min} to ${max}`);
    }
    if (min !== undefined && number < min) {
      throw new Error(`${number} is too small; write ${min} or more`);
    }
    if (max !== undefined && number > max) {
      throw new Error(`${number} is too large; write ${max} or less`);
    }
    return number;
  };
}

/** A whole number within `range`. */
export function integer<F extends number | undefined = undefined>(
  fallback?: F,
  range: Range = {},
): Scalar<number | F> {
  return new Scalar<number | F>(wholeNumber(range, fallback ?? range.min ?? 1), fallback as F);
}

/** A TCP or UDP port; `listen: true` also takes 0, which lets the system pick a free port. */
export function port<F extends number | undefined = undefined>(
  fallback?: F,
  { listen = false } = {},
): Scalar<number | F> {
  const range = { min: listen ? 0 : 1, max: 65535 };
  return new Scalar<number | F>(
    wholeNumber(range, fallback ?? 5222, "a port number"),
    fallback as F,
  );
}

const TRUE_WORDS = new Set(["true", "yes", "on", "1"]);
const FALSE_WORDS = new Set(["false", "no", "off", "0"]);

/** Yes or no; an empty child element (`<tls/>`, as jabber.xml's `<ssl/>`) means yes. */
export function boolean<F extends boolean | undefined = undefined>(
  fallback?: F,
): Scalar<boolean | F> {
  const parse = (text: string) => {
    const word = text.trim().toLowerCase();
    if (TRUE_WORDS.has(word)) return true;
    if (FALSE_WORDS.has(word)) return false;
    throw new Error(`"${text}" is not a yes or no; write true or false`);
  };
  return new Scalar<boolean | F>(parse, fallback as F, undefined, true);
}

/** One of the words in `choices`. */
export function oneOf<const C extends string, F extends C | undefined = undefined>(
  choices: readonly C[],
  fallback?: F,
): Scalar<C | F> {
  const parse = (text: string): C => {
    const word = text.trim();
    if (choices.includes(word as C)) return word as C;
    throw new Error(`"${text}" is not known here; write ${and(choices, "or")}`);
  };
  return new Scalar<C | F>(parse, fallback as F);
}

/** `positive`: zero is refused too. */
export interface AmountSettings {
  positive?: boolean;
}

function amount(parse: (text: string) => number, example: string, positive: boolean) {
  return (text: string): number => {
    // A bare 0 is zero in any unit: no need to guess which one was meant.
    const value = text.trim() === "0" ? 0 : parse(text);
    if (positive && value === 0) {
      throw new Error(`"${text}" is zero; write more, such as ${example}`);
    }
    return value;
  };
}

/** Milliseconds, from `250ms`, `30s`, `5m`, `1h`, `2d` or `1h30m`; a bare number needs a unit. */
export function duration<F extends number | undefined = undefined>(
  fallback?: F,
  { positive = false }: AmountSettings = {},
): Scalar<number | F> {
  return new Scalar<number | F>(amount(parseDuration, "30s", positive), fallback as F);
}

/** Bytes, from `512B`, `256KiB`, `10MiB`, `1GiB` (powers of 1024) or `1kB`, `1MB` (of 1000). */
export function size<F extends number | undefined = undefined>(
  fallback?: F,
  { positive = false }: AmountSettings = {},
): Scalar<number | F> {
  return new Scalar<number | F>(amount(parseSize, "64KiB", positive), fallback as F);
}
