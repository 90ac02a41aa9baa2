/**
 * `<ns>` in an `<xdb>` section (jabberd 1.4's xdb namespace filter): the section takes only xdb
 * packets for the namespaces listed, and a `precond` filter answers `skip` for others, so that
 * another xdb section for the same host can take them.
 *
 * `<ns>jabber:iq:roster</ns>`; a section may hold several `<ns>` elements, and it takes a packet
 * when any of them lists its namespace. They cooperate through the section event `xdb-ns-accepts`
 * (each answers true for its own namespace), so every filter answers the same and unloading one
 * leaves the others working.
 */
import type { ModuleDefinition } from "../../server/module_api.ts";
import type { Element } from "../../xml/element.ts";

const ACCEPTS_EVENT = "xdb-ns-accepts";

/** The namespace an `<ns>` element names, or a sentence saying what is wrong. */
export function namespaceOf(element: Element): { ns: string } | string {
  if (element.elements.length > 0) {
    return "<ns> takes only text: one namespace, such as jabber:iq:roster";
  }
  const ns = element.text().trim();
  if (ns === "") return "<ns> is empty; write one namespace, such as jabber:iq:roster";
  if (/\s/.test(ns)) {
    return `<ns> holds "${ns}", more than one word; write one namespace per <ns> element`;
  }
  return { ns };
}

export const nsModule: ModuleDefinition = {
  element: "ns",
  sections: ["xdb"],
  validate(element, context) {
    for (const name of Object.keys(element.attrs)) {
      if (name === "xmlns" || name.startsWith("xmlns:")) continue;
      context.problem(element, `<ns> has no attribute "${name}"; write the namespace as text`);
    }
    const found = namespaceOf(element);
    if (typeof found === "string") context.problem(element, found);
  },
  register(api) {
    const found = namespaceOf(api.config);
    if (typeof found === "string") throw new Error(found);
    api.hook<string>(ACCEPTS_EVENT, (ns) => ns === found.ns ? true : undefined);
    api.handle("precond", (packet) => {
      if (packet.kind !== "xdb") return "pass";
      return api.fire(ACCEPTS_EVENT, packet.element.attrs.ns ?? "") === true ? "pass" : "skip";
    });
  },
};
