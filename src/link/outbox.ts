/**
 * Where a link section's outgoing packets go (ROUTING.md "Links to other processes"): to the
 * newest live stream when there is one, else into the bounded queue until a stream is back; a
 * packet the queue gives up on bounces to its sender (R17–R20), or is logged when it cannot.
 */
import type { Clock } from "../adapters/types.ts";
import type { Packet } from "../tree/packet.ts";
import type { StanzaErrorCondition } from "../util/errors.ts";
import { bounceOf, LinkQueue } from "./queue.ts";
import type { StreamLink } from "./stream_link.ts";
import { encodePacket } from "./wire.ts";

export interface OutboxOptions {
  queueMax: number;
  queueAgeMs: number;
  clock: Pick<Clock, "now" | "setTimeout" | "clearTimeout">;
  /** Node links carry the hop count (wire.ts). */
  carryHops: boolean;
  /** Puts a bounce into the tree. */
  deliver(packet: Packet): void;
  /** Reports a packet that was given up without a bounce (a log line, an error, …). */
  dropped(packet: Packet, condition: StanzaErrorCondition): void;
}

export class Outbox {
  readonly #options: OutboxOptions;
  readonly #queue: LinkQueue;
  /** Live streams, oldest first; packets go to the newest. */
  #live: StreamLink[] = [];

  constructor(options: OutboxOptions) {
    this.#options = options;
    this.#queue = new LinkQueue({
      max: options.queueMax,
      ageMs: options.queueAgeMs,
      clock: options.clock,
      onDrop: (packet, condition) => this.#drop(packet, condition),
    });
  }

  /** Packets waiting for a stream. */
  get queued(): number {
    return this.#queue.size;
  }

  get connected(): boolean {
    return this.#live.length > 0;
  }

  /** A stream finished its handshake: it takes the queue, then every new packet. */
  attach(link: StreamLink): void {
    this.#live.push(link);
    for (const packet of this.#queue.take()) this.send(packet);
  }

  /** A stream ended; packets wait for the next one. */
  detach(link: StreamLink): void {
    this.#live = this.#live.filter((live) => live !== link);
  }

  send(packet: Packet): void {
    while (this.#live.length > 0) {
      const link = this.#live[this.#live.length - 1];
      if (!link.ended) {
        link.send(encodePacket(packet, this.#options.carryHops));
        return;
      }
      this.#live.pop();
    }
    this.#queue.push(packet);
  }

  /** The link goes away for good: every waiting packet bounces with the condition. */
  close(condition: StanzaErrorCondition): void {
    this.#live = [];
    this.#queue.dropAll(condition);
  }

  #drop(packet: Packet, condition: StanzaErrorCondition): void {
    const bounce = bounceOf(packet, condition);
    if (bounce) this.#options.deliver(bounce);
    else this.#options.dropped(packet, condition);
  }
}
