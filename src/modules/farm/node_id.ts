/**
 * This node's id when `<farm>` names none (docs/farm.md, ROUTING.md R40): made once and kept in
 * the data folder, so a restarted node is the same node to the farm.
 */
import type { FileAdapter } from "../../adapters/types.ts";
import { isNodeId } from "./config.ts";

/** The id kept at `path`, or a new one written there. `made` is told when one was made. */
export async function keptNodeId(
  files: FileAdapter,
  path: string,
  made?: (id: string) => void,
): Promise<string> {
  if (await files.exists(path)) {
    const kept = (await files.readTextFile(path)).trim();
    if (!isNodeId(kept)) {
      throw new Error(`${path} holds "${kept}", not a node id (letters, digits, - and _)`);
    }
    return kept;
  }
  const id = `node-${crypto.randomUUID().slice(0, 8)}`;
  const slash = path.lastIndexOf("/");
  if (slash > 0) await files.mkdir(path.slice(0, slash));
  await files.writeTextFile(path, id + "\n");
  made?.(id);
  return id;
}
