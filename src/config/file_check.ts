/**
 * The PEM files a config names (certificates, keys, trust anchors), read at check time so that
 * `jabberd check` refuses, at the element's file:line:column, a path `start` could not read
 * (docs/architecture.md "The config file"). Paths are resolved as the server resolves them when
 * it starts: relative to the folder of the main config file (`ModuleApi.resolvePath`), whichever
 * file an `<include>` brought the element from.
 *
 * Like runtime_check.ts, the table is keyed by config element: which attributes name files is a
 * fact of the config format. A module that comes to read another file adds its line here.
 */
import { dirname } from "node:path";
import { resolvePath } from "../server/section.ts";
import { type PemKind, pemProblem } from "../tls/pem.ts";
import type { Element } from "../xml/element.ts";
import type { SectionConfig } from "./validate.ts";

/** A file the config names: where, as written, and what it must hold. */
export interface FileReference {
  at: Element;
  /** How the config names it, for the sentence: `cert="…"` or `<ca>`. */
  written: string;
  path: string;
  kind: PemKind;
}

/** A file that cannot be used: where, and the sentence. */
export interface FileProblem {
  at: Element;
  message: string;
}

/** `cert` and `key` attributes of each `name` child: c2s `<certificate>`, s2s and `<accept>` `<tls>`. */
function pairs(element: Element, name: string): FileReference[] {
  const found: FileReference[] = [];
  for (const child of element.getChildren(name)) {
    for (const [attribute, kind] of [["cert", "certificate"], ["key", "key"]] as const) {
      const path = child.attrs[attribute];
      if (path) found.push({ at: child, written: `${attribute}="${path}"`, path, kind });
    }
  }
  return found;
}

/** Each module element's PEM files, as its validator already accepted them. */
const FILES: Record<string, (element: Element) => FileReference[]> = {
  "jabberd:config:c2s": (element) => pairs(element, "certificate"),
  "jabberd:config:s2s": (element) => [
    ...pairs(element, "tls"),
    ...element.getChildren("ca").map((ca) => ({
      at: ca,
      written: `<ca>`,
      path: ca.text().trim(),
      kind: "trust anchors" as const,
    })).filter((reference) => reference.path !== ""),
  ],
  accept: (element) => pairs(element, "tls"),
  connect: (element) =>
    element.getChildren("tls").flatMap((tls) =>
      tls.attrs.ca
        ? [{
          at: tls,
          written: `ca="${tls.attrs.ca}"`,
          path: tls.attrs.ca,
          kind: "trust anchors" as const,
        }]
        : []
    ),
};

/** Every PEM file the modules of `sections` name, in config order. */
export function fileReferences(sections: readonly SectionConfig[]): FileReference[] {
  return sections.flatMap((section) =>
    section.modules.flatMap(({ definition, element }) => FILES[definition.element]?.(element) ?? [])
  );
}

/** What a file is called in a sentence. */
const NOUN: Record<PemKind, string> = {
  certificate: "certificate file",
  key: "key file",
  "trust anchors": "CA file",
};

/**
 * Reads every PEM file the config names, relative to the folder of `configFile`, and returns one
 * problem per file that cannot be read or does not hold what it should.
 */
export async function checkFiles(
  sections: readonly SectionConfig[],
  configFile: string,
  readTextFile: (path: string) => Promise<string>,
): Promise<FileProblem[]> {
  const base = dirname(configFile);
  const problems: FileProblem[] = [];
  for (const reference of fileReferences(sections)) {
    const resolved = resolvePath(base, reference.path);
    // The resolved path only when it says more than the path as written.
    const same = resolved.replace(/^\.\//, "") === reference.path.replace(/^\.\//, "");
    const shown = same ? reference.path : `${reference.path} (${resolved})`;
    const noun = NOUN[reference.kind];
    let text: string;
    try {
      text = await readTextFile(resolved);
    } catch (cause) {
      problems.push({
        at: reference.at,
        message:
          `Cannot read ${noun} ${shown}: ${osReason(cause)}; write in ${reference.written} ` +
          `the path of a PEM file, relative to the folder of the config file`,
      });
      continue;
    }
    const wrong = pemProblem(text, reference.kind);
    if (wrong) {
      problems.push({
        at: reference.at,
        message: `The ${noun} ${shown} is not a PEM ${
          reference.kind === "key" ? "private key" : "certificate"
        } file: ${wrong}`,
      });
    }
  }
  return problems;
}

/** "No such file or directory" from Deno's "No such file or directory (os error 2): readfile '…'". */
function osReason(cause: unknown): string {
  const message = cause instanceof Error ? cause.message : String(cause);
  const cut = message.indexOf(" (os error");
  return cut > 0 ? message.slice(0, cut) : message;
}
