/**
 * The `<xdb>` section's modules (docs/architecture.md "Base modules"): `<kv>` storage on Deno KV, the
 * `<ns>` namespace filter and the `<cache>`. The store, its match syntax and its conformance
 * suite are exported for other backends and tests.
 */
import type { ModuleDefinition } from "../../server/module_api.ts";
import { cacheModule } from "./cache.ts";
import { kvModule } from "./kv.ts";
import { nsModule } from "./ns.ts";

export const xdbModules: readonly ModuleDefinition[] = [kvModule, nsModule, cacheModule];

export { cacheModule, kvModule, nsModule };
export { matches, parseMatch, type XdbMatch } from "./match.ts";
export {
  XDB_CHANGED,
  XDB_LOADED,
  type XdbChangedEvent,
  type XdbLoadedEvent,
  type XdbRequest,
} from "./request.ts";
export { XdbStore, type XdbStoreOptions } from "./store.ts";
