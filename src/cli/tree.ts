/**
 * `jabberd tree`: starts the sections on side-effect-free adapters, so every module registers
 * what it really registers, and prints the resulting tree: kind → host → instances → handlers.
 * The dry adapters read the real files (read-only, dry_files.ts), so certificates the config
 * names are found; a section that still fails to start is printed with its error at the end.
 */
import type { Adapters } from "../adapters/types.ts";
import { formatProblem } from "../config/mod.ts";
import { Server } from "../server/server.ts";
import { UPLINK } from "../tree/delivery_tree.ts";
import { Packet, PACKET_KINDS } from "../tree/packet.ts";
import { readThrough } from "./dry_files.ts";
import { readConfig } from "./read_config.ts";

/** A section that did not start on the dry adapters, and why. */
export interface FailedSection {
  id: string;
  reason: string;
}

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
  const server = new Server({
    adapters: { ...dry, files: readThrough(dry.files, adapters.files) },
    fallbackLog: () => {},
    // A port the dry network cannot bind is one more failed section, not the end of the tree.
    keepGoing: true,
  });
  const failed = watchFailures(server);
  await server.start(config);
  let out = describeTree(server);
  if (failed.length > 0) {
    out += "failed to start (left out of the tree above)\n";
    for (const { id, reason } of failed) out += `  ${id}: ${reason}\n`;
  }
  adapters.stdout(out);
  await server.stop();
  return failed.length > 0 ? 1 : 0;
}

/**
 * Collects the sections that fail to start. The server reports each as an error log packet
 * ("Section ID failed to start and was stopped: REASON", src/server/server.ts), which a log
 * section of the config may take: the packets are read on their way into the router, whoever
 * receives them.
 */
function watchFailures(server: Server): FailedSection[] {
  const failed: FailedSection[] = [];
  const router = server.router;
  const deliver = router.deliver.bind(router);
  router.deliver = (what, cause) => {
    const element = what instanceof Packet ? what.element : what;
    if (element.name === "log" && element.attrs.type === "error") {
      const match = /^Section (\S+) failed to start and was stopped: (.*)$/s.exec(element.text());
      if (match) failed.push({ id: match[1], reason: match[2] });
    }
    deliver(what, cause);
  };
  return failed;
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
