/**
 * The router: delivers packets to the instances the delivery tree names, runs their chains, and
 * bounces what nobody took (docs/architecture.md "The delivery tree" 3–6; every rule is listed in ROUTING.md).
 * It decides only *where*; it does no I/O.
 */
import { Element } from "../xml/element.ts";
import { errorReply, StanzaError, type StanzaErrorCondition } from "../util/errors.ts";
import { Chain, type ChainOutcome } from "./chain.ts";
import type { Handler } from "./handler.ts";
import { DeliveryTree } from "./delivery_tree.ts";
import { Packet, PACKET_KINDS, type PacketKind } from "./packet.ts";

export interface RouterOptions {
  /** A packet delivered more times than this in one causal line is dropped (default 16). */
  maxHops?: number;
  /**
   * Where a log packet goes when no log section takes it, and where the router reports what it
   * drops when no log section would take that report either (normally standard error).
   */
  fallbackLog?: (packet: Packet) => void;
}

interface Instance {
  readonly id: string;
  readonly chain: Chain;
  /** Per sender→recipient pair, the last unfinished delivery (only while one is async). */
  readonly tails: Map<string, Promise<ChainOutcome>>;
  /** Packets delivered to it, by kind in `PACKET_KINDS` order (`kindIndex`), for `/metrics`. */
  readonly delivered: number[];
}

/** What the router has counted since it started (read-only, for `/metrics` and the status page). */
export interface RouterStats {
  /** Packets delivered, per instance (section id) and kind. */
  delivered: { id: string; kind: PacketKind; count: number }[];
  /** Packets nobody took, per stanza error condition (bounced or, where no bounce may go, dropped). */
  bounces: Record<string, number>;
  /** Sender→recipient pairs waiting behind an unfinished async delivery, over all instances. */
  queues: number;
  /** Deliveries taken into those queues and not finished yet. */
  queued: number;
}

export class Router {
  readonly tree = new DeliveryTree();
  readonly #instances = new Map<string, Instance>();
  readonly #maxHops: number;
  readonly #fallbackLog: (packet: Packet) => void;
  /** The packet whose chain is running right now, so packets it causes inherit its hops. */
  #current: Packet | undefined;
  #pending = 0;
  /** Deliveries in the per-pair queues (`#setTail`) not finished yet. */
  #queued = 0;
  readonly #bounces: Record<string, number> = {};
  #idleWaiters: (() => void)[] = [];

  constructor(options: RouterOptions = {}) {
    this.#maxHops = options.maxHops ?? 16;
    this.#fallbackLog = options.fallbackLog ?? (() => {});
  }

  /**
   * Adds an instance and makes its id a routable host for `kinds`, every kind by default (replies
   * such as xdb results come back to the requesting instance's id). A section passes `normal`
   * and its own kinds only: an id registered for every kind would be an exact match that takes
   * the log lines and xdb requests about that id away from the log and xdb sections. Returns
   * its chain.
   */
  addInstance(id: string, kinds: readonly PacketKind[] = PACKET_KINDS): Chain {
    if (this.#instances.has(id)) throw new Error(`An instance with id "${id}" already exists`);
    // Every handler call, including those that run after an async handler of the same chain,
    // knows its packet, so what it delivers counts one more hop (ROUTING.md R22).
    const chain = new Chain(this.#callWithin);
    const delivered = PACKET_KINDS.map(() => 0);
    const instance: Instance = { id, chain, tails: new Map(), delivered };
    this.#instances.set(id, instance);
    for (const kind of kinds) this.tree.insert(kind, id, id);
    return instance.chain;
  }

  /**
   * Takes an instance off the tree: nothing new reaches it. Resolves once the deliveries it had
   * already accepted (waiting behind an async handler) have run, so its modules can then unload
   * without losing them.
   */
  async removeInstance(id: string): Promise<void> {
    this.tree.removeInstance(id);
    await this.drain(id);
    this.#instances.delete(id);
  }

  /** Resolves once the deliveries an instance has taken (waiting behind async handlers) ran. */
  async drain(id: string): Promise<void> {
    const instance = this.#instances.get(id);
    while (instance && instance.tails.size > 0) await Promise.all(instance.tails.values());
  }

  hasInstance(id: string): boolean {
    return this.#instances.has(id);
  }

  /** The counters, read when asked: nothing on the delivery path but integer increments. */
  stats(): RouterStats {
    const delivered: RouterStats["delivered"] = [];
    let queues = 0;
    for (const instance of this.#instances.values()) {
      queues += instance.tails.size;
      PACKET_KINDS.forEach((kind, i) => {
        delivered.push({ id: instance.id, kind, count: instance.delivered[i] });
      });
    }
    return { delivered, bounces: { ...this.#bounces }, queues, queued: this.#queued };
  }

  /**
   * Delivers an element (or a packet made by the caller). A packet caused by the one currently
   * being handled counts one more hop than it; pass `cause` when delivering later, from a
   * callback, so loops through async handlers are counted too.
   */
  deliver(what: Element | Packet, cause: Packet | undefined = this.#current): void {
    const hops = cause ? cause.hops + 1 : 0;
    const packet = what instanceof Packet
      ? (what.hops >= hops ? what : new Packet(what.element, { hops, bounced: what.bounced }))
      : new Packet(what, { hops });
    if (packet.hops > this.#maxHops) {
      // A log line past the limit (one written deep in a loop, or a drop report) is not lost.
      if (packet.kind === "log") return this.#fallbackLog(packet);
      this.#report(packet, `Dropped a packet after ${this.#maxHops} hops (a routing loop?)`);
      return;
    }
    const ids = this.tree.match(packet.kind, packet.host);
    if (ids.length === 0) return this.#unhandled(packet, "service-unavailable");
    // The common case, one instance, avoids the array and the combining below.
    if (ids.length === 1) {
      const outcome = this.#run(ids[0], packet);
      if (typeof outcome === "string") this.#settle(packet, outcome);
      else this.#track(outcome.then((settled) => this.#settle(packet, settled)));
      return;
    }
    if (packet.kind === "xdb") return this.#deliverToFirstTaker(ids, 0, packet);
    const outcomes = ids.map((id) => this.#run(id, packet));
    if (outcomes.every((o) => typeof o === "string")) {
      this.#settle(packet, combine(outcomes as ChainOutcome[]));
    } else {
      this.#track(Promise.all(outcomes).then((all) => this.#settle(packet, combine(all))));
    }
  }

  /**
   * Storage must answer once: an xdb packet goes to the instances in the order their sections
   * were started until one takes it (`done`) or fails (`error`). A filter that answers `skip`
   * (`<ns>`) passes it on to the next one, as jabberd 1.4's namespace-specific xdb sections
   * took precedence over the catch-all one.
   */
  #deliverToFirstTaker(ids: readonly string[], start: number, packet: Packet): void {
    for (let i = start; i < ids.length; i++) {
      const outcome = this.#run(ids[i], packet);
      if (typeof outcome !== "string") {
        this.#track(outcome.then((settled) => {
          if (settled === "done" || settled === "error" || i + 1 === ids.length) {
            this.#settle(packet, settled);
          } else this.#deliverToFirstTaker(ids, i + 1, packet);
        }));
        return;
      }
      if (outcome === "done" || outcome === "error") return this.#settle(packet, outcome);
    }
    this.#unhandled(packet, "service-unavailable");
  }

  /** Resolves once no delivery is waiting on an async handler (tests, shutdown). */
  idle(): Promise<void> {
    if (this.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #run(id: string, packet: Packet): ChainOutcome | Promise<ChainOutcome> {
    const instance = this.#instances.get(id);
    if (!instance) return "pass";
    instance.delivered[kindIndex(packet.kind)]++;
    // Keep order per sender→recipient (RFC 6120 §10.1): wait behind an unfinished delivery of
    // the same pair to this instance. Nothing is allocated while every handler answers at once.
    if (instance.tails.size > 0) {
      const key = pairKey(packet);
      const tail = instance.tails.get(key);
      if (tail) {
        return this.#setTail(instance, key, tail.then(() => this.#runChain(instance, packet)));
      }
    }
    const outcome = this.#runChain(instance, packet);
    if (typeof outcome === "string") return outcome;
    return this.#setTail(instance, pairKey(packet), outcome);
  }

  #runChain(instance: Instance, packet: Packet): ChainOutcome | Promise<ChainOutcome> {
    return instance.chain.run(packet);
  }

  /** Calls a handler with `packet` as the one being handled (one bound function, no closure). */
  #callWithin = (handler: Handler, packet: Packet): ReturnType<Handler> => {
    const outer = this.#current;
    this.#current = packet;
    try {
      return handler(packet);
    } finally {
      this.#current = outer;
    }
  };

  #setTail(
    instance: Instance,
    key: string,
    promise: Promise<ChainOutcome>,
  ): Promise<ChainOutcome> {
    instance.tails.set(key, promise);
    this.#queued++;
    promise.then(() => {
      this.#queued--;
      if (instance.tails.get(key) === promise) instance.tails.delete(key);
    });
    return promise;
  }

  #settle(packet: Packet, outcome: ChainOutcome): void {
    if (outcome === "done") return;
    // A log section that filtered a line out (`<logtype>`) did what it was asked: the line is
    // not for anyone, and writing it to the fallback would defeat the filter.
    if (outcome === "skip" && packet.kind === "log") return;
    this.#unhandled(
      packet,
      outcome === "error" ? "internal-server-error" : "service-unavailable",
    );
  }

  /** Nobody took the packet: bounce it, or drop it where a bounce is not allowed (ROUTING.md R17–R21). */
  #unhandled(packet: Packet, condition: StanzaErrorCondition): void {
    const element = packet.element;
    if (packet.kind === "log") return this.#fallbackLog(packet);
    this.#bounces[condition] = (this.#bounces[condition] ?? 0) + 1;
    if (packet.bounced) {
      return this.#report(packet, `Dropped a bounce nobody took (${condition})`);
    }
    let reply: Element | undefined;
    if (packet.kind === "normal") {
      reply = errorReply(element, new StanzaError(condition));
    } else if (element.attrs.type !== "error") {
      reply = swapError(element);
    }
    if (!reply || !reply.attrs.to) {
      return this.#report(packet, `Dropped an undeliverable ${element.name} (${condition})`);
    }
    this.deliver(new Packet(reply, { hops: packet.hops + 1, bounced: true }), packet);
  }

  /** Reports a dropped packet as a log packet (to stderr if no log section takes it). */
  #report(packet: Packet, text: string): void {
    const from = packet.host || "jabberd";
    const log = new Element("log", { type: "warn", from }, [
      `${text}: ${truncate(packet.element.toString())}`,
    ]);
    const report = new Packet(log, { bounced: true });
    if (packet.kind === "log" || this.tree.match("log", report.host).length === 0) {
      this.#fallbackLog(report);
    } else this.deliver(report); // caused by the packet being handled, if any (R22)
  }

  #track(promise: Promise<void>): void {
    this.#pending++;
    promise.finally(() => {
      if (--this.#pending === 0) {
        const waiters = this.#idleWaiters;
        this.#idleWaiters = [];
        for (const resolve of waiters) resolve();
      }
    });
  }
}

/**
 * Any instance taking the packet settles it; else an error bounces internal-server-error; else
 * a filter's `skip` is remembered (it matters for log packets).
 */
function combine(outcomes: ChainOutcome[]): ChainOutcome {
  if (outcomes.includes("done")) return "done";
  if (outcomes.includes("error")) return "error";
  return outcomes.includes("skip") ? "skip" : "pass";
}

/**
 * A kind's place in `PACKET_KINDS`: a switch on interned strings, so counting a delivery is an
 * array increment rather than a property store keyed by a varying name.
 */
function kindIndex(kind: PacketKind): number {
  switch (kind) {
    case "normal":
      return 0;
    case "xdb":
      return 1;
    case "log":
      return 2;
    default:
      return 3;
  }
}

function pairKey(packet: Packet): string {
  return (packet.from ?? "") + "\u0000" + (packet.to ?? "");
}

/** The error reply to an xdb or route packet: `to`/`from` swapped, `type="error"`. */
function swapError(element: Element): Element {
  const attrs: Record<string, string> = { ...element.attrs, type: "error" };
  delete attrs.to;
  delete attrs.from;
  if (element.attrs.from !== undefined) attrs.to = element.attrs.from;
  if (element.attrs.to !== undefined) attrs.from = element.attrs.to;
  return new Element(element.name, attrs, [...element.children], element.ns);
}

function truncate(text: string): string {
  return text.length > 300 ? text.slice(0, 300) + "…" : text;
}
