/**
 * The old entry for starting a whole server in a test, kept for the tests not moved yet
 * (`shutdown_flush_test.ts`): a thin layer over `testServer` in `src/server/_testing.ts`, on
 * the Deno adapters unless others are given. New tests call `testServer` directly.
 */
import { denoAdapters } from "../src/adapters/deno/mod.ts";
import type { Adapters } from "../src/adapters/types.ts";
import { testServer } from "../src/server/_testing.ts";
import type { Server } from "../src/server/server.ts";

export { testC2sSection } from "../src/server/_testing.ts";

/** `file` names the config (includes and relative paths resolve from its folder). */
export async function startServer(
  text: string,
  file: string,
  options: { adapters?: Adapters } = {},
): Promise<Server> {
  const world = await testServer(text, { file, adapters: options.adapters ?? denoAdapters() });
  return world.server;
}
