/**
 * The `<log>` section's modules (jabberd 1.4's log sections, docs/architecture.md "Base modules"): `<format>`,
 * `<logtype>` and the sinks `<stderr/>`, `<stdout/>`, `<file>`, `<to>`, `<syslog>`. How they
 * cooperate is described in line.ts.
 */
import type { ModuleDefinition } from "../../server/module_api.ts";
import { fileModule } from "./file.ts";
import { formatModule } from "./format.ts";
import { logtypeModule } from "./logtype.ts";
import { stderrModule } from "./stderr.ts";
import { stdoutModule } from "./stdout.ts";
import { syslogModule } from "./syslog.ts";
import { toModule } from "./to.ts";

export {
  fileModule,
  formatModule,
  logtypeModule,
  stderrModule,
  stdoutModule,
  syslogModule,
  toModule,
};
export { DEFAULT_FORMAT, formatLine, parseFormat } from "./line.ts";

/** Every log module, for the server's table of base modules. */
export const logModules: readonly ModuleDefinition[] = [
  formatModule,
  logtypeModule,
  stderrModule,
  stdoutModule,
  fileModule,
  toModule,
  syslogModule,
];
