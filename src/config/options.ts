/**
 * A module's settings, declared once (docs/module-api.md, "Options"): the same schema serves
 * `jabberd check`, which needs every problem at the element or child where it was written with a
 * sentence that says how to fix it, and `register`, which needs typed values with defaults.
 *
 * ```ts
 * const PING = options({ interval: duration(300_000), timeout: duration(60_000) });
 * validate(element, context) { PING.validate(element, context); }
 * register(api) { const { interval, timeout } = PING.read(api.config); }
 * ```
 *
 * The config file's convention: a single value is an attribute of the element or the text of a
 * child element of that name (`<cache timeout="30s"/>` or `<cache><timeout>30s</timeout></cache>`;
 * the attribute wins). Repeated values (`list`) and settings with their own attributes (a nested
 * `options`, such as `<queue max age/>`) are child elements only.
 */
import type { ValidationContext } from "../server/module_api.ts";
import { Element } from "../xml/element.ts";
import { and, onlyChild, type Option, type Sink } from "./option_kinds.ts";

export {
  type AmountSettings,
  boolean,
  duration,
  integer,
  oneOf,
  type Option,
  port,
  type Range,
  type Scalar,
  size,
  string,
  value,
} from "./option_kinds.ts";

type Spec = Record<string, Option<unknown>>;
type SpecValues<S extends Spec> = { [K in keyof S]: S[K] extends Option<infer T> ? T : never };
/** What an option reads: for `const CACHE = options({ max: integer(10) })`, `Values<typeof CACHE>`
 * is `{ max: number }`. */
export type Values<O> = O extends Option<infer T> ? T : never;

export interface OptionsSettings {
  /**
   * Names other code reads, accepted without a check: the settings of a `<load>`ed module (`true`:
   * any name), the features' settings inside `<sm>`, `<exec>`'s `<arg>`s.
   */
  others?: true | readonly string[];
}

const THROW: Sink = {
  checkNames: false,
  problem(_at, message) {
    throw new Error(message);
  },
  warning() {},
};

/** The declared settings of one element; also an option itself, for a child such as `<queue>`. */
export class Options<S extends Spec> implements Option<SpecValues<S>> {
  readonly form = "element";
  readonly #spec: S;
  readonly #settings: OptionsSettings;

  constructor(spec: S, settings: OptionsSettings = {}) {
    this.#spec = spec;
    this.#settings = settings;
  }

  /**
   * Reports every problem of `element` to `context` and returns its values, defaults standing in
   * for what is wrong (a missing required value is undefined), for checks across options.
   */
  validate(element: Element, context: ValidationContext): SpecValues<S> {
    return this.#parse(element, {
      checkNames: true,
      problem: (at, message) => context.problem(at, message),
      warning: (at, message) => context.warning(at, message),
    });
  }

  /** The typed values of `element` (undefined: every default); throws at the first problem. */
  read(element: Element | undefined): SpecValues<S> {
    return this.#parse(element ?? new Element("options"), THROW);
  }

  /** As a child option: undefined when the child is absent, instead of every default. */
  optional(): Option<SpecValues<S> | undefined> {
    return {
      form: "element",
      take: (owner, name, sink) => owner.getChild(name) ? this.take(owner, name, sink) : undefined,
      takeChild: (owner, child, name, sink) => this.takeChild(owner, child, name, sink),
    };
  }

  take(owner: Element, name: string, sink: Sink): SpecValues<S> {
    const [child] = onlyChild(owner, name, sink);
    if (child) return this.#parse(child, sink);
    // Absent: the defaults, read from an empty child placed where its problems can be located.
    const empty = new Element(name);
    empty.parent = owner;
    return this.#parse(empty, sink);
  }

  takeChild(_owner: Element, child: Element, _name: string, sink: Sink): SpecValues<S> {
    return this.#parse(child, sink);
  }

  #parse(element: Element, sink: Sink): SpecValues<S> {
    const spec = this.#spec;
    const others = this.#settings.others;
    const known = (name: string) =>
      Object.hasOwn(spec, name) || others === true || (others?.includes(name) ?? false);
    const names = [...Object.keys(spec), ...(others === true ? [] : others ?? [])];
    const listing = names.length === 0 ? "it takes no settings" : `its settings are ${and(names)}`;
    if (sink.checkNames) {
      for (const name of Object.keys(element.attrs)) {
        if (name === "xmlns" || name.startsWith("xmlns:")) continue;
        if (!known(name)) {
          sink.problem(element, `<${element.local}> has no attribute "${name}"; ${listing}`);
        } else if (spec[name]?.form === "element") {
          sink.problem(
            element,
            `<${element.local}> takes ${name} as <${name}> elements, not as an attribute`,
          );
        }
      }
    }
    const values: Record<string, unknown> = {};
    for (const [name, option] of Object.entries(spec)) {
      values[name] = option.take(element, name, sink);
    }
    if (sink.checkNames) {
      for (const child of element.elements) {
        if (!known(child.local)) {
          sink.problem(child, `<${element.local}> has no setting <${child.local}>; ${listing}`);
        }
      }
    }
    return values as SpecValues<S>;
  }
}

/** Declares the settings of an element. */
export function options<S extends Spec>(spec: S, settings?: OptionsSettings): Options<S> {
  return new Options(spec, settings);
}

/** Repeated child elements, in the order written (`<domain>` of c2s, `<admin>` of sm). */
class List<T> implements Option<T[]> {
  readonly form = "element";
  readonly #item: Option<T>;
  readonly #settings: ListSettings;
  readonly #needs: string | undefined;

  constructor(item: Option<T>, settings: ListSettings, needs?: string) {
    this.#item = item;
    this.#settings = settings;
    this.#needs = needs;
  }

  /** At least one item: `what` ends the sentence `<owner> needs …` when there is none. */
  required(what: string): List<T> {
    return new List(this.#item, this.#settings, what);
  }

  take(owner: Element, name: string, sink: Sink): T[] {
    const children = owner.getChildren(name);
    if (children.length === 0 && this.#needs !== undefined) {
      sink.problem(owner, `<${owner.local}> needs ${this.#needs}`);
    }
    const values: T[] = [];
    for (const child of children) {
      const value = this.#item.takeChild(owner, child, name, sink);
      if (value === undefined) continue;
      if (this.#settings.unique && values.includes(value)) {
        sink.problem(child, `<${owner.local}> has <${name}> ${value} twice; keep one`);
      } else values.push(value);
    }
    return values;
  }

  takeChild(): undefined {
    throw new Error("A list cannot be an item of a list; declare the item's own options");
  }
}

export interface ListSettings {
  /** A value written twice is a problem (the second is left out); for words and numbers. */
  unique?: boolean;
}

/** Repeated child elements of one kind: `list(string())`, or `list(options({ … }))`. */
export function list<T>(item: Option<T>, settings: ListSettings = {}): List<Exclude<T, undefined>> {
  return new List(item as Option<Exclude<T, undefined>>, settings);
}
