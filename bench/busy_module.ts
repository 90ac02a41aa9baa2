/**
 * A module for `bench/routing_worker.ts`, loaded with `<load thread="worker">`: it keeps its
 * thread busy with a CPU loop (in 50 ms slices, so it still answers its unload) and answers the
 * packets for its host.
 */
import type { ModuleApi } from "../src/server/module_api.ts";

export function register(api: ModuleApi): void {
  api.handle("deliver", () => "done");
  let sink = 0;
  const spin = () => {
    const end = Date.now() + 50;
    while (Date.now() < end) sink = (sink * 31 + 7) % 1_000_003;
    setTimeout(spin, 0);
  };
  setTimeout(spin, 0);
  api.onUnload(() => api.log.debug(`busy module spun to ${sink}`));
}
