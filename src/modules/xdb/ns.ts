/**
 * `<ns>` in an `<xdb>` section (jabberd 1.4's xdb namespace filter): the section takes only xdb
 * packets for the namespaces listed, and a `precond` filter answers `skip` for others, so that
 * another xdb section for the same host can take them.
 *
 * `<ns>jabber:iq:roster</ns>`; a section may hold several `<ns>` elements, and it takes a packet
 * when any of them lists its namespace. They cooperate through the section event `xdb-ns-accepts`
 * (each answers true for its own namespace), so every filter answers the same and unloading one
 * leaves the others working.
 *
 * A get of several namespaces (`action="many"`) is taken when the section stores all of them,
 * skipped when it stores none, and refused with an error reply when it stores only some.
 */
import type { ModuleDefinition } from "../../server/module_api.ts";
import type { Element } from "../../xml/element.ts";
import { errorResult } from "./request.ts";

/** How an error reply to a get of several namespaces that sections split begins. */
export const SPLIT_REASON = "namespaces stored by different sections";

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
    const accepts = (ns: string) => api.fire(ACCEPTS_EVENT, ns) === true;
    api.handle("precond", (packet) => {
      if (packet.kind !== "xdb") return "pass";
      const { ns = "", action } = packet.element.attrs;
      if (action !== "many" || packet.element.attrs.type !== "get") {
        return accepts(ns) ? "pass" : "skip";
      }
      // A get of several namespaces (ROUTING.md "xdb"): taken when all are ours, left to the
      // next section when none is. When only some are, no single section can answer it right:
      // it is refused, and the client reads each namespace alone (xdb_client.ts `getMany`).
      const namespaces = ns.split(" ").filter((part) => part !== "");
      const ours = namespaces.filter(accepts).length;
      if (ours === namespaces.length && ours > 0) return "pass";
      if (ours === 0) return "skip";
      const reply = errorResult(
        packet.element,
        `${SPLIT_REASON}: this section stores only some of "${ns}"`,
      );
      if (reply.attrs.to) api.deliver(reply, packet);
      return "done";
    });
  },
};
