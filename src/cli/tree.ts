/**
 * `jabberd tree`: starts the sections on side-effect-free adapters, so every module registers
 * what it really registers, and prints the resulting tree: kind → host → instances → handlers.
 */
import type { Adapters } from "../adapters/types.ts";
import { formatProblem } from "../config/mod.ts";
import { Server } from "../server/server.ts";
import { UPLINK } from "../tree/delivery_tree.ts";
import { PACKET_KINDS } from "../tree/packet.ts";
import { readConfig } from "./read_config.ts";

export async function runTree(
  option: string | undefined,
  adapters: Adapters,
  dry: Adapters,
): Promise<number> {
  const { config, problems } = await readConfig(option, adapters);
  const errors = problems.filter((p) => p.severity === "error");
  if (!config || errors.length > 0) {
    for (const problem of errors) adapters.stderr(formatProblem(problem) + "\n");
    return 1;
  }
  const server = new Server({ adapters: dry, fallbackLog: () => {} });
  await server.start(config);
  adapters.stdout(describeTree(server));
  await server.stop();
  return 0;
}

/** The tree as indented text; instance ids registered as their own hosts are listed once. */
export function describeTree(server: Server): string {
  const sections = new Map(server.sections().map((section) => [section.id, section]));
  let out = "";
  for (const kind of PACKET_KINDS) {
    const entries = server.router.tree.entries(kind)
      .filter(([pattern, ids]) => !(ids.length === 1 && ids[0] === pattern));
    if (entries.length === 0) continue;
    out += `${kind}\n`;
    for (const [pattern, ids] of entries) {
      out += `  ${pattern === UPLINK ? "(uplink: anything unmatched)" : pattern}\n`;
      for (const id of ids) {
        const section = sections.get(id);
        out += `    ${id}${section ? ` <${section.kind}>` : ""}\n`;
        for (const { phase, label } of section?.handlers() ?? []) {
          out += `      ${phase.padEnd(10)} ${label}\n`;
        }
      }
    }
  }
  out += "instances (each id is also a host of its own kinds)\n";
  for (const section of sections.values()) {
    out += `  ${section.id} <${section.kind}>: ${
      section.handlers().map(({ phase, label }) => `${phase} ${label}`).join(", ")
    }\n`;
  }
  return out;
}
