/** `<null/>`: takes every packet that reaches it and drops it (jabberd 1.4's null handler). */
import { expectEmpty } from "../../config/validators.ts";
import type { ModuleDefinition } from "../../server/module_api.ts";

export const nullModule: ModuleDefinition = {
  element: "null",
  sections: ["service", "xdb", "log"],
  validate: expectEmpty,
  register(api) {
    api.handle("deliver", () => "done");
  },
};
