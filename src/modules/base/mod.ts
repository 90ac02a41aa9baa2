/** The base modules every section kind may use: `<host>`, `<null/>`, `<uplink/>`. */
import type { ModuleDefinition } from "../../server/module_api.ts";
import { host } from "./host.ts";
import { nullModule } from "./null.ts";
import { uplink } from "./uplink.ts";

export const baseModules: readonly ModuleDefinition[] = [host, nullModule, uplink];
