/**
 * How many nodes `jabberd start` runs on this machine and under which ids (README "Running a
 * farm"): `--nodes N|auto`, else `<farm nodes="N|auto">` in the config, else one plain process.
 * It also checks what would make the nodes of one config collide: a `<farm>` section is needed
 * (without it N nodes are N separate servers), and the node id and the ids of sections holding
 * client connections must differ from node to node (`${JABBERD_NODE}` in them).
 */
import type { Adapters } from "../adapters/types.ts";
import type { Config } from "../config/mod.ts";
import { readFarmConfig } from "../modules/farm/config.ts";
import type { Element } from "../xml/element.ts";
import { readConfig } from "./read_config.ts";

/** What the supervisor needs to know before starting nodes. */
export interface NodePlan {
  /** The node ids, `n1`…`nN` (or with the supervisor's own `$JABBERD_NODE` as prefix). */
  ids: string[];
  /** The NATS URLs of `<farm><nats>` as node 1 reads them (with the farm module's default). */
  natsUrls: string[];
  /** The config as node 1 reads it (the supervisor's pidfile and data folder come from it). */
  config: Config;
}

/** `{ plan }` to run a supervisor, `{}` for one plain process, `{ problem }` to refuse. */
export type PlanResult = { plan?: NodePlan; problem?: string };

/**
 * Reads `--nodes` (`flag`) or the config's `<farm nodes>`. `cores` is the number "auto" means
 * (`navigator.hardwareConcurrency`). Config errors are left to `start`, which reports them all.
 */
export async function planNodes(
  option: string | undefined,
  flag: string | undefined,
  adapters: Adapters,
  cores: number,
): Promise<PlanResult> {
  const prefix = adapters.env("JABBERD_NODE") || "n";
  const asNode = (id: string) => readConfig(option, withEnv(adapters, { JABBERD_NODE: id }));
  const first = await asNode(`${prefix}1`);
  const config = first.config;
  if (!config || first.problems.some((p) => p.severity === "error")) {
    // A flag that cannot be read is still an error worth saying first.
    const count = flag === undefined ? 0 : parseCount(flag, "--nodes", cores);
    return typeof count === "string" ? { problem: count } : {};
  }
  const farm = farmElement(config);
  // Written as an attribute or a child element, like every option (src/config/options.ts).
  const written = flag ?? farm?.attr("nodes") ?? farm?.getChildText("nodes");
  if (written === undefined) return {};
  const count = parseCount(written, flag === undefined ? '<farm nodes="…">' : "--nodes", cores);
  if (typeof count === "string") return { problem: count };
  if (count === 0) return {};
  if (!farm) {
    return {
      problem: "--nodes needs a <farm> section in the config: without it the nodes would be " +
        "separate servers that do not see each other's users (see jabberd.example.d/farm.xml)",
    };
  }
  const ids = Array.from({ length: count }, (_, i) => `${prefix}${i + 1}`);
  const second = await asNode(`${prefix}2`);
  if (second.config) {
    const clash = sameOnEveryNode(config, second.config);
    if (clash) return { problem: clash };
  }
  return { plan: { ids, natsUrls: readFarmConfig(farm).servers, config } };
}

/** "auto" → `cores`; a whole number ≥ 0 → itself; anything else → a sentence. */
export function parseCount(text: string, where: string, cores: number): number | string {
  const trimmed = text.trim();
  if (trimmed === "auto") return Math.max(1, cores);
  if (/^\d+$/.test(trimmed) && Number(trimmed) <= 1024) return Number(trimmed);
  return `${where} takes a number of nodes (0 to 1024) or "auto" (one per core), not "${text}"`;
}

/** The `<farm>` element of the first service section that has one. */
export function farmElement(config: Config): Element | undefined {
  for (const section of config.sections) {
    if (section.kind !== "service") continue;
    const farm = section.element.elements.find((e) => e.local === "farm" && e.ns === "");
    if (farm) return farm;
  }
  return undefined;
}

/**
 * A sentence when two nodes would read the same node id, or the same id for a section holding
 * client connections (`<c2s>`): the farm reaches a node's sessions by its c2s section's id.
 */
function sameOnEveryNode(one: Config, two: Config): string | undefined {
  const nodeId = (config: Config) => readFarmConfig(farmElement(config)!).node;
  const id = nodeId(one);
  if (id === undefined || id === nodeId(two)) {
    // Without <node>, each node would read the one id kept in the shared data folder.
    const which = id === undefined ? "the one kept in the data folder" : `"${id}"`;
    return `Every node would get the same farm node id (${which}): write ` +
      "<node>${JABBERD_NODE}</node> in <farm> (the supervisor sets JABBERD_NODE to n1, n2, …)";
  }
  const twoIds = new Set(two.sections.map((s) => s.id));
  for (const section of one.sections) {
    const holdsClients = section.modules.some((m) => m.element.local === "c2s");
    if (holdsClients && twoIds.has(section.id)) {
      return `Every node would have a section with the id "${section.id}", which holds client ` +
        `connections: write <service id="${section.id}-\${JABBERD_NODE}"> so each node's differs`;
    }
  }
  return undefined;
}

/** The same adapters, with some environment variables set (how node `id` reads the config). */
export function withEnv(adapters: Adapters, env: Record<string, string>): Adapters {
  return { ...adapters, env: (name) => Object.hasOwn(env, name) ? env[name] : adapters.env(name) };
}
