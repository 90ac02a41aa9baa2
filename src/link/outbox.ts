/**
 * Where a link section's outgoing packets go (ROUTING.md "Links to other processes"): to the
 * newest live stream when there is one, else into the bounded queue until a stream is back; a
 * packet the queue gives up on bounces to its sender (R17–R20), or is logged when it cannot.
 *
 * On a stream with acknowledgements (R48, `acks.ts`) every packet written is kept until the peer
 * acknowledges it, at most `queueMax` at a time (more wait in the queue). When such a stream ends,
 * what it did not acknowledge waits for the same peer's next stream, whose handshake says how many
 * packets of the old stream the peer took: the rest is written again, before anything newer. What
 * waits too long bounces like a queued packet.
 */
import type { Clock } from "../adapters/types.ts";
import type { Packet } from "../tree/packet.ts";
import type { StanzaErrorCondition } from "../util/errors.ts";
import type { Receipt } from "./acks.ts";
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

/** How a stream that counts acknowledgements was set up (from its handshake). */
export interface StreamAcks {
  /** The stream's id (the `<accept>` side's stream id, known to both sides). */
  id: string;
  /** The peer's receipt for its previous stream with us, from the handshake. */
  previous: Receipt | undefined;
}

interface Sent {
  packet: Packet;
  at: number;
}

interface Live {
  link: StreamLink;
  /** The peer this stream belongs to: "" for a component or a dialled link, else its name. */
  key: string;
  /** Counting, on a stream with acknowledgements. */
  acks?: { id: string; acked: number; unacked: Sent[] };
}

/** What an ended stream did not get acknowledged, waiting for its peer's next stream. */
interface Unacked {
  id: string;
  acked: number;
  queue: LinkQueue;
}

export class Outbox {
  readonly #options: OutboxOptions;
  readonly #queue: LinkQueue;
  /** Live streams, oldest first; packets go to the newest. */
  #live: Live[] = [];
  /** Per peer key, the packets its last stream did not acknowledge. */
  readonly #unacked = new Map<string, Unacked>();
  /** Packets written with `reply()`: counted, but never written again nor bounced. */
  readonly #once = new WeakSet<Packet>();

  constructor(options: OutboxOptions) {
    this.#options = options;
    this.#queue = this.#newQueue();
  }

  /** Packets waiting for a stream (queued, or sent on a stream that ended unacknowledged). */
  get queued(): number {
    let count = this.#queue.size;
    for (const waiting of this.#unacked.values()) count += waiting.queue.size;
    return count;
  }

  /** Packets written to live streams and not yet acknowledged. */
  get inFlight(): number {
    return this.#live.reduce((sum, live) => sum + (live.acks?.unacked.length ?? 0), 0);
  }

  get connected(): boolean {
    return this.#live.length > 0;
  }

  /**
   * A stream finished its handshake: first what the peer's last stream did not take (all of it
   * when the peer does not count, or counted another stream), then the queue, then every new
   * packet. `key` names the peer ("" when there is only one).
   */
  attach(link: StreamLink, key = "", acks?: StreamAcks): void {
    const live: Live = { link, key };
    if (acks) live.acks = { id: acks.id, acked: 0, unacked: [] };
    this.#live.push(live);
    const waiting = this.#unacked.get(key);
    if (waiting) {
      this.#unacked.delete(key);
      let taken = 0;
      const previous = acks?.previous;
      if (previous && previous.id === waiting.id) taken = Math.max(0, previous.h - waiting.acked);
      for (let packet = waiting.queue.shift(); packet; packet = waiting.queue.shift()) {
        if (taken > 0) taken--;
        else if (!this.#once.has(packet)) this.#writeTo(live, packet);
      }
    }
    this.#drain();
  }

  /** A stream ended; packets wait for the next one, and so does what it left unacknowledged. */
  detach(link: StreamLink): void {
    const live = this.#live.find((entry) => entry.link === link);
    if (!live) return;
    this.#live = this.#live.filter((entry) => entry !== live);
    if (!live.acks || live.acks.unacked.length === 0) return;
    const earlier = this.#unacked.get(live.key);
    const waiting: Unacked = earlier
      // Two ended streams of one peer without a live one between them cannot happen (a stream
      // takes what its predecessor left); if it did, nothing is trimmed: resent, not lost.
      ? { id: "", acked: 0, queue: earlier.queue }
      : { id: live.acks.id, acked: live.acks.acked, queue: this.#newQueue() };
    for (const sent of live.acks.unacked) waiting.queue.push(sent.packet, sent.at);
    this.#unacked.set(live.key, waiting);
  }

  /**
   * The peer of `link` acknowledged `h` packets of it in all: they are forgotten, and queued
   * packets fill the room. Throws a RangeError when `h` goes back or past what was sent.
   */
  acknowledged(link: StreamLink, h: number): void {
    const acks = this.#live.find((entry) => entry.link === link)?.acks;
    if (!acks) return;
    const count = h - acks.acked;
    if (count < 0 || count > acks.unacked.length) {
      throw new RangeError(
        `The peer acknowledged ${h} packets, but ${acks.acked} were acknowledged before and ` +
          `${acks.acked + acks.unacked.length} were sent`,
      );
    }
    acks.unacked.splice(0, count);
    acks.acked = h;
    this.#drain();
  }

  send(packet: Packet): void {
    if (this.#queue.size === 0 && this.#write(packet)) return;
    this.#queue.push(packet);
  }

  /**
   * Writes a packet to this live stream only, now, ahead of any queue: the answer to a request the
   * peer's current process made (a `<fork>` child's XDB request). On a stream with
   * acknowledgements it is counted like any packet, so both sides' counts match, but it is never
   * written to another stream nor bounced: the process that asked is gone with its stream.
   */
  reply(link: StreamLink, packet: Packet): void {
    const live = this.#live.find((entry) => entry.link === link);
    if (!live || link.ended) return;
    this.#once.add(packet);
    this.#writeTo(live, packet);
  }

  /** The link goes away for good: every waiting or unacknowledged packet bounces. */
  close(condition: StanzaErrorCondition): void {
    const live = this.#live;
    this.#live = [];
    for (const entry of live) {
      for (const sent of entry.acks?.unacked ?? []) this.#drop(sent.packet, condition);
    }
    for (const waiting of this.#unacked.values()) waiting.queue.dropAll(condition);
    this.#unacked.clear();
    this.#queue.dropAll(condition);
  }

  /** Writes to the newest live stream with room; false when there is none. */
  #write(packet: Packet): boolean {
    while (this.#live.length > 0) {
      const live = this.#live[this.#live.length - 1];
      if (live.link.ended) {
        // Ended without its detach yet: what it left waits for the peer's next stream.
        this.detach(live.link);
        continue;
      }
      if (live.acks && live.acks.unacked.length >= this.#options.queueMax) return false;
      this.#writeTo(live, packet);
      return true;
    }
    return false;
  }

  #writeTo(live: Live, packet: Packet): void {
    live.link.send(encodePacket(packet, this.#options.carryHops));
    live.acks?.unacked.push({ packet, at: this.#options.clock.now() });
  }

  /** Moves queued packets to the live stream while it has room. */
  #drain(): void {
    for (let packet = this.#queue.peek(); packet; packet = this.#queue.peek()) {
      if (!this.#write(packet)) return;
      this.#queue.shift();
    }
  }

  #newQueue(): LinkQueue {
    return new LinkQueue({
      max: this.#options.queueMax,
      ageMs: this.#options.queueAgeMs,
      clock: this.#options.clock,
      onDrop: (packet, condition) => this.#drop(packet, condition),
    });
  }

  #drop(packet: Packet, condition: StanzaErrorCondition): void {
    if (this.#once.has(packet)) return;
    const bounce = bounceOf(packet, condition);
    if (bounce) this.#options.deliver(bounce);
    else this.#options.dropped(packet, condition);
  }
}
