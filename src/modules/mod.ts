/**
 * Every built-in module, in one list: the composition is explicit here and nothing registers
 * itself on import (the xmpp.js way).
 */
import type { ModuleDefinition } from "../server/module_api.ts";
import { baseModules } from "./base/mod.ts";
import { c2sModule } from "./c2s/mod.ts";
import { httpModule } from "./http/mod.ts";
import { mucModule } from "./muc/mod.ts";
import { smModule } from "./sm/mod.ts";
import { s2sModule } from "./s2s/mod.ts";
import { uploadModule } from "./upload/mod.ts";
import { logModules } from "./log/mod.ts";
import { xdbModules } from "./xdb/mod.ts";

export const builtinModules: readonly ModuleDefinition[] = [
  ...baseModules,
  ...logModules,
  ...xdbModules,
  c2sModule,
  smModule,
  httpModule,
  mucModule,
  uploadModule,
  s2sModule,
];
