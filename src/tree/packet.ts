/**
 * A packet: one XML element travelling through the delivery tree, with its kind and routing host
 * (docs/architecture.md "The delivery tree" 1–2, ROUTING.md R1–R2; the formats between components are in ROUTING.md).
 */
import type { Element } from "../xml/element.ts";
import { domainOf } from "../util/jid.ts";

/** `normal` (message, presence, iq, s2s `db:*`), `xdb`, `log`, `route`. */
export type PacketKind = "normal" | "xdb" | "log" | "route";

export const PACKET_KINDS: readonly PacketKind[] = ["normal", "xdb", "log", "route"];

/** The kind an element travels as: by its name, and for `<xdb>` by its request type. */
export function kindOf(element: Element): PacketKind {
  switch (element.name) {
    case "route":
      return "route";
    case "log":
      return "log";
    case "xdb": {
      const type = element.attrs.type;
      return type === "get" || type === "set" ? "xdb" : "normal";
    }
    default:
      return "normal";
  }
}

/** The routing host: the domain of `to`, or for a log packet the domain of `from`. */
export function hostOf(element: Element, kind: PacketKind): string {
  const address = kind === "log" ? element.attrs.from : element.attrs.to;
  return address ? domainOf(address) : "";
}

export interface PacketOptions {
  /** How many times the tree has delivered this packet's ancestors (loop protection). */
  hops?: number;
  /** True for an error the tree made by bouncing another packet: it never bounces again. */
  bounced?: boolean;
}

/** Immutable once delivered: every recipient of a fan-out shares the same object. */
export class Packet {
  readonly element: Element;
  readonly kind: PacketKind;
  readonly host: string;
  readonly hops: number;
  readonly bounced: boolean;

  constructor(element: Element, options: PacketOptions = {}) {
    this.element = element;
    this.kind = kindOf(element);
    this.host = hostOf(element, this.kind);
    this.hops = options.hops ?? 0;
    this.bounced = options.bounced ?? false;
  }

  get to(): string | undefined {
    return this.element.attrs.to;
  }

  get from(): string | undefined {
    return this.element.attrs.from;
  }
}
