/**
 * Checks a whole config tree before anything starts (docs/architecture.md "The config file"): the section
 * structure, which module each element turns on, and every module's own validator, reporting
 * every problem at once.
 *
 * What is accepted, in jabberd 1.4's `jabber.xml` shape:
 * - the root is `<jabberd>`; it takes no settings of its own (attributes other than namespace
 *   declarations are ignored) and holds only sections;
 * - a section is `<service id>`, `<xdb id>` or `<log id>`; the id is required, unique across all
 *   sections (it is also a routable host) and written like a lowercase host name;
 * - inside a section, an element without a namespace turns on the base module of that name, and
 *   an element with a namespace turns on the component whose `element` is that namespace; the
 *   module's validator checks the element's settings;
 * - text outside elements (other than whitespace and comments) is a mistake;
 * - two service sections that claim the same host (by `<host>` or by their id) each get every
 *   normal packet for it: legal, so only a warning;
 * - what the target runtime cannot run (`<exec>` where processes cannot start, TCP listeners
 *   under `deno serve`…) is refused when a runtime is named (runtime_check.ts).
 */
import type { RuntimeCapabilities } from "../adapters/types.ts";
import type { ModuleDefinition, SectionKind, ValidationContext } from "../server/module_api.ts";
import type { Element } from "../xml/element.ts";
import { positionOf, type Positions, type Problem, type SourcePosition } from "./problem.ts";
import { checkRuntime } from "./runtime_check.ts";

/** One module turned on in a section: its definition and the element that carries its settings. */
export interface ModuleConfig {
  definition: ModuleDefinition;
  element: Element;
}

/** One `<service id>`, `<xdb id>` or `<log id>`, with its modules in the order written. */
export interface SectionConfig {
  id: string;
  kind: SectionKind;
  element: Element;
  modules: ModuleConfig[];
}

export interface ValidationResult {
  /** Sections in load order; complete only when `problems` holds no error. */
  sections: SectionConfig[];
  /** In the order found (the loader sorts them by place). */
  problems: Problem[];
}

const SECTION_KINDS: readonly SectionKind[] = ["service", "xdb", "log"];

/** Examples for messages, in jabberd 1.4's naming. */
const EXAMPLE_ID: Record<SectionKind, string> = {
  service: "sessions",
  xdb: "xdb",
  log: "elogger",
};

/** Lowercase host-name labels: letters, digits, `-` and `_`, joined by dots. */
const SECTION_ID = /^[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*$/;
const MAX_ID_LENGTH = 1023;

/** A base module's element is a plain XML name; a component's is a namespace URI. */
const PLAIN_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/**
 * Validates the tree under `root`. `positions` locates elements for the messages; `file` is used
 * for an element that has no position at all. With `runtime`, what it cannot run is refused too
 * (without: a runtime that can do everything, as Deno).
 */
export function validateConfig(
  root: Element,
  positions: Positions,
  modules: readonly ModuleDefinition[],
  file = positions.get(root)?.file ?? "(config)",
  runtime?: RuntimeCapabilities,
): ValidationResult {
  const problems: Problem[] = [];
  const at = (element: Element): SourcePosition => positionOf(element, positions, file);
  const report = (element: Element, message: string, severity: Problem["severity"]) =>
    problems.push({ ...at(element), message, severity });
  const error = (element: Element, message: string) => report(element, message, "error");
  const warning = (element: Element, message: string) => report(element, message, "warning");

  const baseModules = new Map<string, ModuleDefinition>();
  const components = new Map<string, ModuleDefinition>();
  for (const definition of modules) {
    (PLAIN_NAME.test(definition.element) ? baseModules : components).set(
      definition.element,
      definition,
    );
  }

  if (root.local !== "jabberd") {
    error(
      root,
      `The root element must be <jabberd>, not <${root.name}>; put the sections inside ` +
        `<jabberd>…</jabberd>`,
    );
  }
  checkNoText(root, "<jabberd>", error);

  const sections: SectionConfig[] = [];
  /** Sections whose id is missing, malformed or taken: left out of the host check. */
  const badIds = new Set<Element>();
  const idsSeen = new Map<string, Element>();
  let pidfile: Element | undefined;
  for (const element of root.elements) {
    if (element.ns === "" && element.local === "pidfile") {
      // Not a section: where `jabberd start` writes its process id (src/cli/pidfile.ts).
      if (pidfile) {
        error(element, `<pidfile> is given twice (first at ${where(at(pidfile))}); keep one`);
      } else if (element.text().trim() === "" || element.elements.length > 0) {
        error(element, "<pidfile> needs a file path as its text, such as data/jabberd.pid");
      }
      pidfile ??= element;
      continue;
    }
    const kind = element.ns === "" ? SECTION_KINDS.find((k) => k === element.local) : undefined;
    if (!kind) {
      error(
        element,
        `Unknown element ${describe(element)} in <jabberd>; sections are <service id>, ` +
          `<xdb id> and <log id> (besides one <pidfile>)`,
      );
      continue;
    }
    const id = element.attr("id");
    if (id === undefined || id.trim() === "") {
      badIds.add(element);
      error(
        element,
        `<${kind}> has no id; give it one, such as <${kind} id="${EXAMPLE_ID[kind]}">`,
      );
    } else if (id.length > MAX_ID_LENGTH || !SECTION_ID.test(id)) {
      badIds.add(element);
      error(
        element,
        `Section id "${id}" is not a valid host name; use lowercase letters, digits, "-", "_" ` +
          `and ".", such as "${EXAMPLE_ID[kind]}" or "${EXAMPLE_ID[kind]}.example.org"`,
      );
    } else {
      const first = idsSeen.get(id);
      if (first) {
        badIds.add(element);
        error(
          element,
          `Section id "${id}" is already used by <${first.local} id="${id}"> at ` +
            `${where(at(first))}; give each section its own id, as the id is also a host`,
        );
      } else {
        idsSeen.set(id, element);
      }
    }
    const section: SectionConfig = { id: id ?? "", kind, element, modules: [] };
    sections.push(section);
    const label = `<${kind}${id === undefined ? "" : ` id="${id}"`}>`;
    checkNoText(element, label, error);
    for (const child of element.elements) {
      const definition = child.ns === ""
        ? findBaseModule(child, kind, label, baseModules, error)
        : findComponent(child, kind, label, components, error);
      if (!definition) continue;
      section.modules.push({ definition, element: child });
      runValidator(definition, child, { problem: error, warning }, error);
    }
  }

  warnSharedHosts(sections.filter((s) => !badIds.has(s.element)), at, warning);
  if (runtime) {
    for (const refusal of checkRuntime(sections, runtime)) error(refusal.at, refusal.message);
  }
  return { sections, problems };
}

function findBaseModule(
  child: Element,
  kind: SectionKind,
  label: string,
  baseModules: Map<string, ModuleDefinition>,
  error: (at: Element, message: string) => void,
): ModuleDefinition | undefined {
  const definition = baseModules.get(child.local);
  if (definition?.sections.includes(kind)) return definition;
  if (definition) {
    error(child, `<${child.local}> does not belong in ${label}; ${worksIn(definition)}`);
    return undefined;
  }
  const here = [...baseModules.values()]
    .filter((d) => d.sections.includes(kind))
    .map((d) => `<${d.element}>`);
  error(
    child,
    `Unknown element <${child.name}> in ${label}; ` +
      (here.length > 0
        ? `base modules here are: ${here.join(", ")}`
        : "no base modules are known here"),
  );
  return undefined;
}

function findComponent(
  child: Element,
  kind: SectionKind,
  label: string,
  components: Map<string, ModuleDefinition>,
  error: (at: Element, message: string) => void,
): ModuleDefinition | undefined {
  const definition = components.get(child.ns);
  if (definition?.sections.includes(kind)) return definition;
  if (definition) {
    error(child, `${describe(child)} does not belong in ${label}; ${worksIn(definition)}`);
    return undefined;
  }
  const here = [...components.values()]
    .filter((d) => d.sections.includes(kind))
    .map((d) => d.element);
  error(
    child,
    `Unknown component namespace "${child.ns}" on <${child.name}> in ${label}; ` +
      (here.length > 0
        ? `components here are: ${here.join(", ")}`
        : "no components are known here"),
  );
  return undefined;
}

/** Runs a module's validator; a validator that throws is itself reported, not fatal to `check`. */
function runValidator(
  definition: ModuleDefinition,
  element: Element,
  context: ValidationContext,
  error: (at: Element, message: string) => void,
): void {
  try {
    definition.validate?.(element, context);
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    error(element, `The settings of ${describe(element)} could not be checked: ${reason}`);
  }
}

/** Service sections receive normal packets; one host claimed by two of them is warned about. */
function warnSharedHosts(
  sections: readonly SectionConfig[],
  at: (element: Element) => SourcePosition,
  warning: (at: Element, message: string) => void,
): void {
  const claims = new Map<string, { section: SectionConfig; element: Element }>();
  for (const section of sections) {
    if (section.kind !== "service") continue;
    const mine = new Map<string, Element>([[section.id, section.element]]);
    for (const host of section.element.getChildren("host")) {
      if (host.ns !== "") continue;
      const name = host.text().trim().toLowerCase() || "*";
      if (!mine.has(name)) mine.set(name, host);
    }
    for (const [name, element] of mine) {
      const first = claims.get(name);
      if (!first) {
        claims.set(name, { section, element });
        continue;
      }
      warning(
        element,
        `Host "${name}" is also served by <service id="${first.section.id}"> at ` +
          `${where(at(first.element))}; both will get every packet for it (remove one if that ` +
          `is not meant)`,
      );
    }
  }
}

function checkNoText(
  element: Element,
  label: string,
  error: (at: Element, message: string) => void,
): void {
  for (const child of element.children) {
    if (typeof child !== "string" || child.trim() === "") continue;
    const text = child.trim();
    const shown = text.length > 30 ? text.slice(0, 30) + "…" : text;
    error(
      element,
      `Text "${shown}" is not allowed directly in ${label}; settings go inside an element`,
    );
  }
}

function worksIn(definition: ModuleDefinition): string {
  const kinds = definition.sections.map((k) => `<${k}>`);
  if (kinds.length === 0) return "it works in no section";
  const list = kinds.length === 1
    ? kinds[0]
    : kinds.slice(0, -1).join(", ") + " and " + kinds[kinds.length - 1];
  return `it works only in ${list} sections`;
}

/** `<name>`, or `<name xmlns="…">` when namespaced. */
function describe(element: Element): string {
  return element.ns === "" ? `<${element.name}>` : `<${element.name} xmlns="${element.ns}">`;
}

function where(position: SourcePosition): string {
  return position.line > 0 ? `${position.file}:${position.line}:${position.column}` : position.file;
}
