/** `<null/>`: takes every packet that reaches it and drops it (jabberd 1.4's null handler). */
import type { ModuleDefinition } from "../../server/module_api.ts";

export const nullModule: ModuleDefinition = {
  element: "null",
  sections: ["service", "xdb", "log"],
  validate(element, context) {
    if (element.children.length > 0) context.problem(element, "<null/> takes no content");
  },
  register(api) {
    api.handle("deliver", () => "done");
  },
};
