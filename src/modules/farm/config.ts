/**
 * `<farm>`'s settings (docs/farm.md): the node id, the NATS server, the heartbeat and the ttl
 * after which a silent node counts as lost, the farm's name, and the hosts shared one-of-N.
 */
import { duration, list, options, string } from "../../config/options.ts";
import type { ValidationContext } from "../../server/module_api.ts";
import { NS_SM_CONFIG } from "../../util/ns.ts";
import type { Element } from "../../xml/element.ts";

/** Where a generated node id is kept, relative to the config file (like `data/s2s.secret`). */
export const NODE_ID_FILE = "data/node-id";

export const FARM_OPTIONS = options({
  /** This node's id; default: generated once and kept in `NODE_ID_FILE`. */
  node: string(),
  /** NATS server URLs, separated by commas or spaces. */
  nats: string("nats://127.0.0.1:4222"),
  heartbeat: duration(1_000),
  ttl: duration(5_000),
  /** The farm's name: its subjects and buckets (several farms may share one NATS). */
  name: string("jabberd"),
  /** Hosts this node serves for the farm: any node may send their packets here (one of N). */
  share: list(string()),
  /**
   * How many nodes `jabberd start` runs on this machine ("auto": one per core). Read by the
   * supervisor (src/cli/node_plan.ts), not by the module.
   */
  nodes: string(),
});

export interface FarmSettings {
  node: string | undefined;
  servers: string[];
  heartbeatMs: number;
  ttlMs: number;
  name: string;
  share: string[];
}

const NODE_ID = /^[A-Za-z0-9_-]{1,64}$/;
const NAME = /^[A-Za-z0-9_-]{1,64}$/;

export function validateFarmConfig(element: Element, context: ValidationContext): void {
  FARM_OPTIONS.validate(element, context);
  let settings: FarmSettings;
  try {
    settings = readFarmConfig(element);
  } catch {
    return; // FARM_OPTIONS reported it
  }
  if (settings.node !== undefined && !NODE_ID.test(settings.node)) {
    context.problem(
      element,
      `<node> "${settings.node}" may hold only letters, digits, - and _ (at most 64)`,
    );
  }
  if (!NAME.test(settings.name)) {
    context.problem(
      element,
      `<name> "${settings.name}" may hold only letters, digits, - and _ (at most 64)`,
    );
  }
  for (const server of settings.servers) {
    if (!/^(nats|tls):\/\/[^\s/]+$/.test(server)) {
      context.problem(element, `<nats> "${server}" is not a nats://host:port URL`);
    }
  }
  // The session manager looks for the farm when it starts, and stops first when it comes later
  // (ROUTING.md R46): a farm written after it would be ignored.
  const section = element.parent;
  const sections = section?.parent?.elements ?? [];
  const before = sections.slice(0, Math.max(0, sections.indexOf(section!)));
  if (before.some((earlier) => earlier.elements.some((child) => child.ns === NS_SM_CONFIG))) {
    context.problem(element, "Write the <farm> section before the session manager's section");
  }
  const nodes = element.attr("nodes") ?? element.getChildText("nodes");
  if (nodes !== undefined && nodes !== "auto" && !/^(0|[1-9][0-9]{0,3})$/.test(nodes.trim())) {
    context.problem(element, `nodes="${nodes}" must be "auto" (one node per core) or a count`);
  }
  if (settings.ttlMs <= 2 * settings.heartbeatMs) {
    context.problem(
      element,
      "<ttl> must be longer than two <heartbeat>s, or a slow heartbeat loses a live node",
    );
  }
}

export function readFarmConfig(element: Element): FarmSettings {
  const read = FARM_OPTIONS.read(element);
  return {
    node: read.node,
    servers: read.nats.split(/[\s,]+/).filter((url) => url !== ""),
    heartbeatMs: read.heartbeat,
    ttlMs: read.ttl,
    name: read.name,
    share: read.share.map((host) => host.toLowerCase()),
  };
}

/** Whether a text is a usable node id (letters, digits, - and _). */
export function isNodeId(text: string): boolean {
  return NODE_ID.test(text);
}
