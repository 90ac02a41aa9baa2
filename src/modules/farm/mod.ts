/**
 * `<farm>` in its own `<service>` section: joins this node to a farm of jabberd nodes on NATS, so
 * several processes are one server (docs/farm.md, ROUTING.md R40–R46). It offers the session
 * manager the `Farm` contract (`src/server/farm.ts`) under `FARM`; the session manager keeps each
 * user's sessions on one home node and forwards to it.
 *
 * Write the farm section before the session manager's: sections stop in reverse order, so the
 * farm still carries the session manager's last packets (unavailable presence) when it stops.
 */
import type { ModuleDefinition } from "../../server/module_api.ts";
import { FARM } from "../../server/farm.ts";
import { NODE_ID_FILE, readFarmConfig, validateFarmConfig } from "./config.ts";
import { NatsFarm } from "./farm.ts";
import { keptNodeId } from "./node_id.ts";

export const farmModule: ModuleDefinition = {
  element: "farm",
  sections: ["service"],
  validate: validateFarmConfig,
  async register(api) {
    const settings = readFarmConfig(api.config);
    const node = settings.node ??
      await keptNodeId(
        api.adapters.files,
        api.resolvePath(NODE_ID_FILE),
        (id) => api.log.notice(`farm: made the node id ${id}, kept in ${NODE_ID_FILE}`),
      );
    const farm = new NatsFarm(api, settings, node);
    try {
      await farm.start();
    } catch (error) {
      throw new Error(
        `The farm could not join NATS at ${settings.servers.join(", ")}: ${
          (error as Error)?.message ?? error
        }`,
      );
    }
    api.offer(FARM, farm);
    api.onUnload(() => farm.stop());
    api.log.notice(`farm: node ${node} joined farm "${settings.name}"`);
  },
};

export { NatsFarm } from "./farm.ts";
