/**
 * What the `<farm>` section offers the session manager (`api.offer(FARM, farm)`, docs/farm.md,
 * ROUTING.md R40–R46): this node's id, the session directory (each bare JID's home node, each
 * full JID's node) kept in a local cache so lookups are synchronous, and forwarding a packet to
 * another node in one hop.
 */
import type { Packet } from "../tree/packet.ts";
import type { Element } from "../xml/element.ts";

/** The name of the offer: `api.offered<Farm>(FARM)`. */
export const FARM = "farm";

/** A node that stopped heartbeating (or stopped cleanly) and the sessions it held. */
export interface NodeLoss {
  readonly node: string;
  /** The full JIDs whose sessions lived on it, as the directory knew them. */
  readonly sessions: readonly string[];
}

export interface Farm {
  /** This node's id. */
  readonly node: string;
  /**
   * The live node other than this one that is the home of `bare` (it holds the user's sessions),
   * from the cache; undefined when the home is this node, a lost node, or none.
   */
  homeOf(bare: string): string | undefined;
  /** Makes this node the home of `bare` unless a live node is: answers the home's node id. */
  claim(bare: string): Promise<string>;
  /** Gives up this node's home of `bare` (its last session ended), unless it changed since. */
  release(bare: string): Promise<void>;
  /** Records that a session of `full` lives on this node (or no longer does). */
  sessionOpened(full: string): void;
  sessionClosed(full: string): void;
  /**
   * Sends `packet` to node `node`'s tree in one hop, with its hop count. False when that node
   * is gone (nobody answered): the caller then handles the packet itself.
   */
  forward(node: string, packet: Packet | Element): Promise<boolean>;
  /** Sends a packet to every node's tree, this one's too (farm-wide events, small scale). */
  broadcast(packet: Packet | Element): void;
  /**
   * Called on the one surviving node that takes the loss of another (ROUTING.md R45), before the
   * lost node's directory entries are deleted; the promise is awaited.
   */
  onNodeLost(listener: (loss: NodeLoss) => void | Promise<void>): () => void;
  /**
   * Called when the other nodes took this node for lost (it was cut off from NATS longer than the
   * ttl, docs/farm.md "Failures"): its sessions must end, since its users' contacts were told
   * they went offline and their homes may be elsewhere now.
   */
  onCutOff(listener: () => void): () => void;
}
