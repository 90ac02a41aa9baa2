/**
 * The storage the account commands (`user`, `import`, `export`) work on: the config's `<xdb>`
 * and `<log>` sections started in-process, exactly as the server starts them, plus a tiny
 * service section whose only job is to hand out an XDB client (docs/packets.md "xdb": the
 * commands speak XDB packets like any component).
 */
import type { Adapters } from "../adapters/types.ts";
import { DEFAULT_ITERATIONS } from "../accounts/credentials.ts";
import { type Config, formatProblem } from "../config/mod.ts";
import type { XdbClient } from "../server/module_api.ts";
import { Server } from "../server/server.ts";
import { patternCovers } from "../tree/delivery_tree.ts";
import { NS_SM_CONFIG } from "../util/ns.ts";
import { Element } from "../xml/element.ts";
import { readConfig } from "./read_config.ts";

/** The id of the requester section: XDB replies are addressed to it. */
export const CLI_SECTION_ID = "jabberd-cli";

const NS_C2S_CONFIG = "jabberd:config:c2s";

export interface Storage {
  xdb: XdbClient;
  /** PBKDF2 iterations for new credentials: the config's `<c2s><scram iterations>`, else 10000. */
  iterations: number;
  /** The hosts the config's services name (no wildcards), in order, for `user list`/`export`. */
  hosts: string[];
  /** True when a session manager of the config serves `domain` (wildcards included). */
  serves(domain: string): boolean;
  /** Flushes queued writes and stops the sections. */
  stop(): Promise<void>;
}

/**
 * Reads and validates the config like `check`, then starts its storage. Returns undefined after
 * printing why when the config is not usable.
 */
export async function openStorage(
  option: string | undefined,
  adapters: Adapters,
): Promise<Storage | undefined> {
  const source = await readConfig(option, adapters);
  const errors = source.problems.filter((p) => p.severity === "error");
  if (!source.config || errors.length > 0) {
    for (const problem of errors) adapters.stderr(formatProblem(problem) + "\n");
    adapters.stderr(`${source.description}: it has ${errors.length} error(s)\n`);
    return undefined;
  }
  const config = source.config;
  let xdb: XdbClient | undefined;
  const server = new Server({ adapters });
  await server.start({
    file: config.file,
    sections: [
      ...config.sections.filter((section) => section.kind !== "service"),
      {
        id: CLI_SECTION_ID,
        kind: "service",
        element: new Element("service", { id: CLI_SECTION_ID }),
        modules: [{
          definition: {
            element: CLI_SECTION_ID,
            sections: ["service"],
            register(api) {
              xdb = api.xdb;
            },
          },
          element: new Element(CLI_SECTION_ID),
        }],
      },
    ],
  });
  if (!xdb) {
    await server.stop();
    adapters.stderr("The storage could not be started; see the log above\n");
    return undefined;
  }
  return {
    xdb,
    iterations: iterationsOf(config),
    hosts: hostsOf(config),
    serves: (domain) => servedPatterns(config).some((pattern) => patternCovers(pattern, domain)),
    stop: () => server.stop(),
  };
}

/** `<c2s xmlns="jabberd:config:c2s"><scram iterations="N"/>` of the first c2s, else 10000. */
export function iterationsOf(config: Config): number {
  for (const section of config.sections) {
    for (const module of section.modules) {
      const element = module.element;
      if (element.ns !== NS_C2S_CONFIG) continue;
      const value = element.getChild("scram")?.attrs.iterations;
      if (value !== undefined && /^\d+$/.test(value.trim())) return Number(value.trim());
    }
  }
  return DEFAULT_ITERATIONS;
}

/** The exact hosts (`<host>name</host>`) of the config's service sections. */
export function hostsOf(config: Config): string[] {
  const hosts: string[] = [];
  for (const section of config.sections) {
    if (section.kind !== "service") continue;
    for (const host of section.element.getChildren("host")) {
      const name = host.text().trim().toLowerCase();
      if (name === "" || name.includes("*") || hosts.includes(name)) continue;
      hosts.push(name);
    }
  }
  return hosts;
}

/**
 * The host patterns accounts can log in to: the `<host>`s of the sections that run a session
 * manager (an empty `<host/>` is `*`), or of every service section when none does.
 */
export function servedPatterns(config: Config): string[] {
  const services = config.sections.filter((section) => section.kind === "service");
  const withSm = services.filter((section) =>
    section.modules.some((module) => module.element.ns === NS_SM_CONFIG)
  );
  return (withSm.length > 0 ? withSm : services).flatMap((section) =>
    section.element.getChildren("host").map((host) => host.text().trim() || "*")
  );
}
