/** `<stdout/>` in a `<log>` section (jabberd 1.4's base_stdout): writes each line to stdout. */
import { expectEmpty } from "../../config/validators.ts";
import type { ModuleDefinition } from "../../server/module_api.ts";
import { registerSink } from "./line.ts";

export const stdoutModule: ModuleDefinition = {
  element: "stdout",
  sections: ["log"],
  validate: expectEmpty,
  register(api) {
    registerSink(api, (line) => api.adapters.stdout(line + "\n"));
  },
};
