/**
 * `<host>`: registers the section for a host (jabberd 1.4): an exact name, a `*.domain` wildcard
 * or `*`; an empty `<host/>` means `*`, as in jabber.xml.
 */
import type { ModuleDefinition } from "../../server/module_api.ts";
import { JID } from "../../util/jid.ts";

export const host: ModuleDefinition = {
  element: "host",
  sections: ["service", "xdb", "log"],
  validate(element, context) {
    const pattern = element.text().trim();
    if (element.elements.length > 0) {
      context.problem(element, "<host> holds only a host name as text, not elements");
    }
    const problem = hostPatternProblem(pattern);
    if (problem) context.problem(element, problem);
  },
  register(api) {
    api.addHost(api.config.text().trim() || "*");
  },
};

/** Why a host pattern is unusable, or undefined when it is fine. */
export function hostPatternProblem(pattern: string): string | undefined {
  if (pattern === "" || pattern === "*") return undefined;
  const name = pattern.startsWith("*.") ? pattern.slice(2) : pattern;
  if (name.includes("*")) {
    return `Host "${pattern}" has a "*" that is not a leading "*." label; write "*.example.org" or "*"`;
  }
  if (!JID.tryParse(name) || name.includes("@") || name.includes("/")) {
    return `Host "${pattern}" is not a valid domain name; write a name such as "example.org"`;
  }
  return undefined;
}
