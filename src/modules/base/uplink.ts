/**
 * `<uplink/>`: makes the section the default route (jabberd 1.4): it gets the packets of its
 * section's kinds for which no exact, wildcard or `*` host matches.
 */
import { expectEmpty } from "../../config/validators.ts";
import type { ModuleDefinition } from "../../server/module_api.ts";

export const uplink: ModuleDefinition = {
  element: "uplink",
  sections: ["service", "xdb", "log"],
  validate: expectEmpty,
  register(api) {
    api.addUplink();
  },
};
