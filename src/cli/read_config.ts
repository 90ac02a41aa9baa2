/**
 * Finds and loads the config the way `start`, `check` and `tree` all do: `-c FILE`, else
 * `$JABBERD_CONFIG`, else the embedded default (docs/architecture.md "The config file").
 */
import type { Adapters } from "../adapters/types.ts";
import {
  type Config,
  DEFAULT_CONFIG,
  DEFAULT_CONFIG_PATH,
  loadConfig,
  loadConfigText,
  type Problem,
} from "../config/mod.ts";
import { builtinModules } from "../modules/mod.ts";

export interface ConfigSource {
  /** A sentence saying where the config came from, for the log. */
  description: string;
  config: Config | undefined;
  problems: Problem[];
}

export async function readConfig(
  option: string | undefined,
  adapters: Adapters,
): Promise<ConfigSource> {
  const io = {
    readTextFile: (path: string) => adapters.files.readTextFile(path),
    env: (name: string) => adapters.env(name),
    // What the runtime cannot run is a config error (src/config/runtime_check.ts).
    runtime: adapters.runtime,
  };
  const fromEnv = adapters.env("JABBERD_CONFIG");
  const path = option ?? (fromEnv || undefined);
  if (path !== undefined) {
    const { config, problems } = await loadConfig(path, io, builtinModules);
    const how = option !== undefined ? "given with -c" : "from $JABBERD_CONFIG";
    return { description: `Using config file ${path} (${how})`, config, problems };
  }
  const { config, problems } = await loadConfigText(
    DEFAULT_CONFIG,
    DEFAULT_CONFIG_PATH,
    io,
    builtinModules,
  );
  return {
    description: "Using the embedded default config (no -c and no $JABBERD_CONFIG)",
    config,
    problems,
  };
}
