/**
 * The routing structure alone (NATS-style): which instances serve a kind and host. It knows
 * nothing of packets' contents, chains or sockets; `Router` uses it to decide *where*.
 *
 * Precedence (ROUTING.md R3–R4): an exact host beats the longest matching `*.domain` wildcard, which
 * beats `*`, which beats the uplink (the default route). Every instance at the winning level
 * gets the packet (fan-out).
 */
import type { PacketKind } from "./packet.ts";

/** A host pattern as written in the config: `example.org`, `*.example.org` or `*`. */
export type HostPattern = string;

/** The pattern of the default route (`<uplink/>`): used only when nothing else matches. */
export const UPLINK: HostPattern = "(uplink)";

type Level = Map<HostPattern, readonly string[]>;

/** Instances are named by id; the router keeps the objects. */
export class DeliveryTree {
  readonly #levels = new Map<PacketKind, Level>();

  /** Adds `instance` under `pattern` for `kind`; adding twice is harmless. */
  insert(kind: PacketKind, pattern: HostPattern, instance: string): void {
    const level = this.#level(kind);
    const current = level.get(normalizePattern(pattern)) ?? [];
    if (!current.includes(instance)) {
      level.set(normalizePattern(pattern), [...current, instance]);
    }
  }

  /** Removes `instance` from `pattern` for `kind`; removing what is not there is harmless. */
  remove(kind: PacketKind, pattern: HostPattern, instance: string): void {
    const level = this.#level(kind);
    const key = normalizePattern(pattern);
    const current = level.get(key);
    if (!current) return;
    const rest = current.filter((id) => id !== instance);
    if (rest.length === 0) level.delete(key);
    else level.set(key, rest);
  }

  /** Removes `instance` everywhere (its section stopped). */
  removeInstance(instance: string): void {
    for (const [kind, level] of this.#levels) {
      for (const pattern of [...level.keys()]) this.remove(kind, pattern, instance);
    }
  }

  /** The instances that get a packet of `kind` for `host`, or an empty list. */
  match(kind: PacketKind, host: string): readonly string[] {
    const level = this.#levels.get(kind);
    if (!level) return NONE;
    const exact = level.get(host);
    if (exact) return exact;
    // Wildcards, most specific first: for a.b.example.org try *.b.example.org, *.example.org, …
    for (let dot = host.indexOf("."); dot >= 0; dot = host.indexOf(".", dot + 1)) {
      const wildcard = level.get("*" + host.slice(dot));
      if (wildcard) return wildcard;
    }
    return level.get("*") ?? level.get(UPLINK) ?? NONE;
  }

  /**
   * True when `instance` gets packets of `kind` for `host` through a host pattern it registered
   * (exact, wildcard or `*`), not as the uplink: "is this host mine?" for a section.
   */
  serves(kind: PacketKind, host: string, instance: string): boolean {
    const winners = this.match(kind, host);
    if (!winners.includes(instance)) return false;
    return winners !== this.#levels.get(kind)?.get(UPLINK);
  }

  /** Every pattern with its instances, for `jabberd tree` and tests. */
  entries(kind: PacketKind): [HostPattern, readonly string[]][] {
    return [...(this.#levels.get(kind) ?? new Map()).entries()];
  }

  #level(kind: PacketKind): Level {
    let level = this.#levels.get(kind);
    if (!level) this.#levels.set(kind, level = new Map());
    return level;
  }
}

const NONE: readonly string[] = Object.freeze([]);

/**
 * True when `pattern` (exact, `*.domain` or `*`) covers `host` on its own, without the other
 * patterns' precedence (R4): for places that hold a few patterns but no tree (a worker's hosts,
 * a component's allowed `from` domains). Both are normalized here.
 */
export function patternCovers(pattern: HostPattern, host: string): boolean {
  const p = normalizePattern(pattern);
  const h = normalizePattern(host);
  if (p === "*") return true;
  if (p.startsWith("*.")) return h.endsWith(p.slice(1));
  return p === h;
}

/** Host names compare case-insensitively and without a trailing dot (RFC 7622 §3.2). */
export function normalizePattern(pattern: HostPattern): HostPattern {
  const lower = pattern.toLowerCase();
  return lower.endsWith(".") ? lower.slice(0, -1) : lower;
}
