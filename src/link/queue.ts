/**
 * The bounded queue of a link whose peer is away (ROUTING.md "Links to other processes"): packets
 * wait until the peer is back, bounded by count and by age; what overflows or expires is bounced
 * through the tree's rules (R17–R20), never silently lost.
 */
import type { Clock, TimerId } from "../adapters/types.ts";
import { Packet } from "../tree/packet.ts";
import { errorReply, StanzaError, type StanzaErrorCondition } from "../util/errors.ts";
import { Element } from "../xml/element.ts";

export interface LinkQueueOptions {
  /** The most packets held; one more is refused with `resource-constraint`. */
  max: number;
  /** How long a packet may wait, in ms; then it bounces with `remote-server-timeout`. */
  ageMs: number;
  clock: Pick<Clock, "now" | "setTimeout" | "clearTimeout">;
  /** Called for every packet the queue gives up on, with the condition to bounce it with. */
  onDrop(packet: Packet, condition: StanzaErrorCondition): void;
}

interface Entry {
  packet: Packet;
  at: number;
}

/** A FIFO of packets bounded by count and age; one timer watches the oldest entry. */
export class LinkQueue {
  readonly #options: LinkQueueOptions;
  #entries: Entry[] = [];
  #head = 0;
  #timer: TimerId | undefined;

  constructor(options: LinkQueueOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#entries.length - this.#head;
  }

  /**
   * Holds a packet; when the queue is full the new packet is dropped with `resource-constraint`.
   * `at` is when it started waiting (default now): a packet sent but not acknowledged keeps the
   * time it was sent, so its age counts from there (R48).
   */
  push(packet: Packet, at = this.#options.clock.now()): void {
    if (this.size >= this.#options.max) {
      this.#options.onDrop(packet, "resource-constraint");
      return;
    }
    this.#entries.push({ packet, at });
    if (this.#timer === undefined) this.#schedule();
  }

  /** The oldest waiting packet, left in place. */
  peek(): Packet | undefined {
    return this.size === 0 ? undefined : this.#entries[this.#head].packet;
  }

  /** Takes the oldest waiting packet (the timer goes on watching the rest). */
  shift(): Packet | undefined {
    if (this.size === 0) return undefined;
    const { packet } = this.#entries[this.#head];
    this.#entries[this.#head++] = undefined as unknown as Entry;
    if (this.size === 0) this.take();
    return packet;
  }

  /** Takes every waiting packet, oldest first, and stops watching the clock. */
  take(): Packet[] {
    const packets = this.#entries.slice(this.#head).map((entry) => entry.packet);
    this.#entries = [];
    this.#head = 0;
    this.#stopTimer();
    return packets;
  }

  /** Gives up on every waiting packet with the condition (the link is going away for good). */
  dropAll(condition: StanzaErrorCondition): void {
    for (const packet of this.take()) this.#options.onDrop(packet, condition);
  }

  /** Bounces the packets that waited too long; runs from the timer. */
  expire(): void {
    const now = this.#options.clock.now();
    const limit = this.#options.ageMs;
    while (this.#head < this.#entries.length && now - this.#entries[this.#head].at >= limit) {
      const { packet } = this.#entries[this.#head++];
      this.#options.onDrop(packet, "remote-server-timeout");
    }
    if (this.#head > 64 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
    this.#timer = undefined;
    this.#schedule();
  }

  #schedule(): void {
    if (this.size === 0) return;
    const oldest = this.#entries[this.#head].at;
    const wait = Math.max(0, oldest + this.#options.ageMs - this.#options.clock.now());
    this.#timer = this.#options.clock.setTimeout(() => this.expire(), wait);
  }

  #stopTimer(): void {
    if (this.#timer !== undefined) this.#options.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}

/**
 * The packet that tells a packet's sender it was not delivered, following the tree's rules: a
 * stanza becomes an error stanza with the condition (R17), an xdb or route request comes back as
 * `type="error"` (R19); nothing for a log line, an error, an iq result, something already
 * bounced or without a sender (R18, R20, R21). The bounce counts one hop more.
 */
export function bounceOf(packet: Packet, condition: StanzaErrorCondition): Packet | undefined {
  const element = packet.element;
  if (packet.bounced || packet.kind === "log" || !element.attrs.from) return undefined;
  let reply: Element | undefined;
  if (packet.kind === "normal") {
    reply = errorReply(element, new StanzaError(condition));
  } else if (element.attrs.type !== "error") {
    const attrs: Record<string, string> = { ...element.attrs, type: "error" };
    delete attrs.to;
    attrs.to = element.attrs.from;
    if (element.attrs.to !== undefined) attrs.from = element.attrs.to;
    else delete attrs.from;
    reply = new Element(element.name, attrs, [...element.children], element.ns);
  }
  return reply ? new Packet(reply, { hops: packet.hops + 1, bounced: true }) : undefined;
}
