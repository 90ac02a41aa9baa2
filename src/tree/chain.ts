/**
 * One instance's chain of handlers, run in phase order (ROUTING.md R9–R15). A chain answers a packet with
 * `done`, `skip`, `error` or `pass` (nobody in this instance took it); `unregister` removes the
 * handler and goes on. Synchronous handlers run without any promise; the first handler that
 * answers later turns the rest of the run asynchronous.
 */
import { type Handler, type HandlerResult, type Phase, PHASES } from "./handler.ts";
import type { Packet } from "./packet.ts";

/** What a whole chain answers. */
export type ChainOutcome = "done" | "skip" | "error" | "pass";

interface Entry {
  phase: Phase;
  handler: Handler;
  /** Who added it (the module's element name), for `jabberd tree`. */
  label: string;
  removed: boolean;
}

/** Calls one handler; the router wraps every call to know which packet is being handled. */
export type HandlerCall = (handler: Handler, packet: Packet) => ReturnType<Handler>;

export class Chain {
  #entries: Entry[] = [];
  readonly #call: HandlerCall;

  constructor(call: HandlerCall = (handler, packet) => handler(packet)) {
    this.#call = call;
  }

  /** Adds a handler at the end of its phase; returns a function that removes it. */
  add(phase: Phase, handler: Handler, label = "?"): () => void {
    const entry: Entry = { phase, handler, label, removed: false };
    const rank = PHASES.indexOf(phase);
    let at = this.#entries.length;
    while (at > 0 && PHASES.indexOf(this.#entries[at - 1].phase) > rank) at--;
    // Copy on write: a run in progress keeps iterating the array it started with.
    this.#entries = [...this.#entries.slice(0, at), entry, ...this.#entries.slice(at)];
    return () => this.#remove(entry);
  }

  get size(): number {
    return this.#entries.length;
  }

  /** The handlers in run order, as phase and label. */
  describe(): { phase: Phase; label: string }[] {
    return this.#entries.map(({ phase, label }) => ({ phase, label }));
  }

  /** Runs the packet through the chain; a promise only if some handler answered later. */
  run(packet: Packet): ChainOutcome | Promise<ChainOutcome> {
    return this.#runFrom(this.#entries, 0, packet);
  }

  #runFrom(entries: Entry[], start: number, packet: Packet): ChainOutcome | Promise<ChainOutcome> {
    for (let i = start; i < entries.length; i++) {
      const entry = entries[i];
      if (entry.removed) continue;
      let result: HandlerResult | Promise<HandlerResult>;
      try {
        result = this.#call(entry.handler, packet);
      } catch {
        // A handler that throws is treated as `error`: the packet bounces, others go on.
        return "error";
      }
      if (typeof result !== "string") {
        // Neither a word nor a promise (undefined from a missing return): a bug, so `error`.
        if (typeof (result as { then?: unknown } | null)?.then !== "function") return "error";
        return result.then(
          (settled) => this.#after(entries, i, entry, settled, packet),
          () => "error" as const,
        );
      }
      const outcome = this.#settle(entry, result);
      if (outcome !== undefined) return outcome;
    }
    return "pass";
  }

  #after(
    entries: Entry[],
    index: number,
    entry: Entry,
    result: HandlerResult,
    packet: Packet,
  ): ChainOutcome | Promise<ChainOutcome> {
    const outcome = this.#settle(entry, result);
    return outcome !== undefined ? outcome : this.#runFrom(entries, index + 1, packet);
  }

  /** The chain's outcome if this result ends the run, undefined to go on. */
  #settle(entry: Entry, result: HandlerResult): ChainOutcome | undefined {
    switch (result) {
      case "pass":
        return undefined;
      case "unregister":
        this.#remove(entry);
        return undefined;
      case "done":
      case "skip":
      case "error":
        return result;
      default:
        // A handler returned something that is not a result word: a bug in that handler.
        return "error";
    }
  }

  #remove(entry: Entry): void {
    if (entry.removed) return;
    entry.removed = true;
    this.#entries = this.#entries.filter((e) => e !== entry);
  }
}
