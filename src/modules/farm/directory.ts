/**
 * The farm's local picture of the directory (docs/farm.md, ROUTING.md R41–R42): the live nodes,
 * each bare JID's home node and each full JID's node, fed by the watches of the three buckets and
 * read synchronously on the hot path. No I/O: the farm (farm.ts) feeds it changes and the clock.
 *
 * A node is alive while its heartbeat entry is younger than the ttl. NATS 2.9 removes an expired
 * entry without telling watchers, so expiry is decided here from the time of the last heartbeat
 * seen (`expire(now)`), and a deleted entry (a clean stop) is a loss at once.
 */
import type { NatsBucketChange } from "../../adapters/types.ts";
import { fullOfKey, unescapeKey } from "./keys.ts";

/** What a node writes into the nodes bucket every heartbeat. */
export interface NodeInfo {
  id: string;
  /** Its section ids, which the other nodes route to it (ROUTING.md R44). */
  sections: string[];
  /** Hosts it shares with the farm (one of N takes each packet, R44). */
  shared: string[];
  /** When it started, in ms since the epoch: a restarted node is a new incarnation. */
  started: number;
}

/** An entry of the homes or sessions bucket: which node (and run of it), and its revision. */
export interface Placement {
  node: string;
  /** The `started` of the node's run that wrote it (undefined when the value did not say). */
  started: number | undefined;
  revision: number;
}

/**
 * The value of a homes or sessions entry: `node@started`, so the entries of a node's earlier run
 * (before a restart) are told apart from its current ones when that run's loss is handled.
 */
export function placementValue(node: string, started: number): string {
  return `${node}@${started}`;
}

/** Reads `placementValue`'s text (a bare node id counts as any run of that node). */
export function parsePlacement(value: string, revision: number): Placement {
  const at = value.lastIndexOf("@");
  const started = at < 0 ? NaN : Number(value.slice(at + 1));
  return Number.isFinite(started)
    ? { node: value.slice(0, at), started, revision }
    : { node: value, started: undefined, revision };
}

/** What a change to the nodes bucket meant. */
export type NodeEvent =
  | { kind: "joined"; info: NodeInfo }
  | { kind: "changed"; info: NodeInfo }
  | { kind: "lost"; info: NodeInfo };

export class Directory {
  readonly self: string;
  readonly ttlMs: number;
  readonly #nodes = new Map<string, { info: NodeInfo; seen: number }>();
  readonly #alive = new Set<string>();
  /** Live by their heartbeat, but a packet sent to them found nobody: routed around. */
  readonly #suspects = new Set<string>();
  /** Bare JID → home. */
  readonly homes = new Map<string, Placement>();
  /** Full JID → node holding its session. */
  readonly sessions = new Map<string, Placement>();

  constructor(self: string, ttlMs: number) {
    this.self = self;
    this.ttlMs = ttlMs;
  }

  /** The live node other than this one that is `bare`'s home, else undefined. */
  homeOf(bare: string): string | undefined {
    const home = this.homes.get(bare);
    if (home === undefined || home.node === this.self) return undefined;
    return this.isAlive(home.node) ? home.node : undefined;
  }

  isAlive(node: string): boolean {
    return node === this.self || (this.#alive.has(node) && !this.#suspects.has(node));
  }

  /** The live nodes other than this one. */
  others(): NodeInfo[] {
    return [...this.#alive].filter((id) => id !== this.self && !this.#suspects.has(id)).map((id) =>
      this.#nodes.get(id)!.info
    );
  }

  /** A change of the nodes bucket; `now` is the local clock. */
  applyNode(change: NatsBucketChange, now: number): NodeEvent | undefined {
    const id = unescapeKey(change.key);
    const known = this.#nodes.get(id);
    if (change.value === undefined) {
      this.#nodes.delete(id);
      this.#suspects.delete(id);
      if (!known || !this.#alive.delete(id)) return undefined;
      return { kind: "lost", info: known.info };
    }
    const info = parseNodeInfo(change.value, id);
    if (!info) return undefined;
    // A heartbeat written long ago (seen first when this node starts) counts from when it was
    // written, so a node that died just before we started is not taken for alive for a whole ttl.
    const seen = Math.min(now, change.created);
    this.#nodes.set(id, { info, seen });
    if (now - seen > this.ttlMs) return undefined;
    if (known && known.info.started !== info.started && this.#alive.has(id)) {
      // Restarted within one ttl: the old incarnation is lost, the new one joins.
      this.#alive.delete(id);
      return { kind: "lost", info: known.info };
    }
    if (this.#alive.has(id)) {
      // A heartbeat clears a suspicion: the node answers again.
      if (this.#suspects.delete(id)) return { kind: "changed", info };
      const same = known && sameInfo(known.info, info);
      return same ? undefined : { kind: "changed", info };
    }
    this.#alive.add(id);
    return { kind: "joined", info };
  }

  /** The nodes whose last heartbeat is older than the ttl, now counted as lost. */
  expire(now: number): NodeInfo[] {
    const lost: NodeInfo[] = [];
    for (const id of this.#alive) {
      const node = this.#nodes.get(id)!;
      if (id !== this.self && now - node.seen > this.ttlMs) {
        this.#alive.delete(id);
        this.#suspects.delete(id);
        lost.push(node.info);
      }
    }
    return lost;
  }

  /**
   * This node was cut off from NATS and is back: it saw no heartbeat meanwhile, which says
   * nothing about the others, so each known node gets a ttl from `now` to show it is alive
   * (docs/farm.md "Failures").
   */
  grace(now: number): void {
    for (const node of this.#nodes.values()) node.seen = Math.max(node.seen, now);
  }

  /**
   * Routes around a node that did not answer a packet (it is gone, or hung) until its next
   * heartbeat; its loss is still decided by the ttl. True when it was not suspected yet.
   */
  suspect(id: string): boolean {
    if (id === this.self || !this.#alive.has(id) || this.#suspects.has(id)) return false;
    this.#suspects.add(id);
    return true;
  }

  applyHome(change: NatsBucketChange): void {
    const bare = unescapeKey(change.key);
    if (change.value === undefined) this.homes.delete(bare);
    else this.homes.set(bare, parsePlacement(change.value, change.revision));
  }

  applySession(change: NatsBucketChange): void {
    const full = fullOfKey(change.key);
    if (change.value === undefined) this.sessions.delete(full);
    else this.sessions.set(full, parsePlacement(change.value, change.revision));
  }

  /** The full JIDs the directory places on `node` (on its run `started`, when given). */
  sessionsOn(node: string, started?: number): string[] {
    return [...this.sessions].filter(([, at]) => placedOn(at, node, started)).map(([full]) => full);
  }

  /** The bare JIDs whose home is `node` (its run `started`, when given). */
  homesOn(node: string, started?: number): string[] {
    return [...this.homes].filter(([, at]) => placedOn(at, node, started)).map(([bare]) => bare);
  }
}

function placedOn(at: Placement, node: string, started: number | undefined): boolean {
  return at.node === node &&
    (started === undefined || at.started === undefined || at.started === started);
}

function parseNodeInfo(text: string, id: string): NodeInfo | undefined {
  try {
    const value = JSON.parse(text);
    if (value?.id !== id || typeof value.started !== "number") return undefined;
    const strings = (list: unknown) =>
      Array.isArray(list) ? list.filter((item) => typeof item === "string") : [];
    return {
      id,
      sections: strings(value.sections),
      shared: strings(value.shared),
      started: value.started,
    };
  } catch {
    return undefined;
  }
}

function sameInfo(a: NodeInfo, b: NodeInfo): boolean {
  return a.started === b.started && a.sections.join() === b.sections.join() &&
    a.shared.join() === b.shared.join();
}
