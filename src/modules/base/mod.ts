/** The base modules every section kind may use: `<host>`, `<null/>`, `<uplink/>`. */
import type { ModuleDefinition } from "../../server/module_api.ts";
import { accept } from "./accept.ts";
import { connect } from "./connect.ts";
import { exec } from "./exec.ts";
import { farmModule } from "../farm/mod.ts";
import { fork } from "./fork.ts";
import { host } from "./host.ts";
import { load } from "./load.ts";
import { nullModule } from "./null.ts";
import { uplink } from "./uplink.ts";

export const baseModules: readonly ModuleDefinition[] = [
  host,
  nullModule,
  uplink,
  accept,
  connect,
  load,
  exec,
  fork,
  farmModule,
];
