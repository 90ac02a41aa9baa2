/**
 * `<uplink/>`: makes the section the default route (jabberd 1.4): it gets the packets of its
 * section's kinds for which no exact, wildcard or `*` host matches.
 */
import type { ModuleDefinition } from "../../server/module_api.ts";

export const uplink: ModuleDefinition = {
  element: "uplink",
  sections: ["service", "xdb", "log"],
  validate(element, context) {
    if (element.children.length > 0) context.problem(element, "<uplink/> takes no content");
  },
  register(api) {
    api.addUplink();
  },
};
