/** `<stderr/>` in a `<log>` section (jabberd 1.4's base_stderr): writes each line to stderr. */
import type { ModuleDefinition } from "../../server/module_api.ts";
import { registerSink } from "./line.ts";

export const stderrModule: ModuleDefinition = {
  element: "stderr",
  sections: ["log"],
  validate(element, context) {
    if (element.children.length > 0) context.problem(element, "<stderr/> takes no content");
  },
  register(api) {
    registerSink(api, (line) => api.adapters.stderr(line + "\n"));
  },
};
