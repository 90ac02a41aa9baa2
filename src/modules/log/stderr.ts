/** `<stderr/>` in a `<log>` section (jabberd 1.4's base_stderr): writes each line to stderr. */
import { expectEmpty } from "../../config/validators.ts";
import type { ModuleDefinition } from "../../server/module_api.ts";
import { registerSink } from "./line.ts";

export const stderrModule: ModuleDefinition = {
  element: "stderr",
  sections: ["log"],
  validate: expectEmpty,
  register(api) {
    registerSink(api, (line) => api.adapters.stderr(line + "\n"));
  },
};
