/**
 * Starts a whole server in the test process from config text, the way `jabberd start` does
 * (validation, every built-in module), on the Deno adapters unless others are given.
 */
import { denoAdapters } from "../src/adapters/deno/mod.ts";
import type { Adapters } from "../src/adapters/types.ts";
import { loadConfigText, optionReader } from "../src/config/mod.ts";
import { builtinModules } from "../src/modules/mod.ts";
import { Server } from "../src/server/server.ts";
import type { Packet } from "../src/tree/packet.ts";

export interface StartServerOptions {
  adapters?: Adapters;
  /** Where log lines go that no log section takes (default: dropped). */
  fallbackLog?: (packet: Packet) => void;
}

/** `file` names the config (includes and relative paths resolve from its folder). */
export async function startServer(
  text: string,
  file: string,
  options: StartServerOptions = {},
): Promise<Server> {
  const adapters = options.adapters ?? denoAdapters();
  const { config, problems } = await loadConfigText(
    text,
    file,
    { readTextFile: (path) => adapters.files.readTextFile(path), env: adapters.env },
    builtinModules,
  );
  if (!config) throw new Error(`The test config is invalid: ${JSON.stringify(problems)}`);
  const server = new Server({
    adapters,
    options: optionReader,
    fallbackLog: options.fallbackLog ?? (() => {}),
  });
  await server.start(config);
  return server;
}
