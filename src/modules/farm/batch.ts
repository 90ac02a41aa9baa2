/**
 * Coalesced forwarding between farm nodes (ROUTING.md R43, docs/farm.md "Forwarding"): the
 * packets for one subject (one node, or one shared host) queued in the same tick go as ONE NATS
 * request, the node-link texts of the packets one after another, and ONE acknowledgement (or
 * "no responders") answers for all of them. Under load a forwarded packet then costs a
 * serialization and a parse, not a round trip through nats-server; at a low rate each packet
 * still leaves in the tick it was queued, so the hop adds no waiting.
 *
 * A batch is sent at the end of the tick (a microtask), unless `maxInFlight` batches to that
 * subject already wait for their acknowledgement: then the packets keep gathering until one is
 * acknowledged, so the busier the link, the larger the batches. A batch never grows past
 * `maxChars` (NATS refuses a message over the server's max_payload, 1 MB by default); a single
 * larger packet goes alone. Batches to one subject leave in the order their packets were queued,
 * and NATS keeps the order of one connection's messages to one subscriber, so packets arrive in
 * the order they were forwarded.
 */
import type { Packet } from "../../tree/packet.ts";
import type { Element } from "../../xml/element.ts";
import { farmPacketText } from "./wire.ts";

const encoder = new TextEncoder();

/** Sends one batch's bytes on a subject: true when the receiver acknowledged it. */
export type BatchSender = (subject: string, data: Uint8Array) => Promise<boolean>;

export interface BatchOptions {
  /** Batches to one subject awaiting their acknowledgement before the next waits (default 2). */
  maxInFlight?: number;
  /** The largest batch in UTF-16 code units of node-link text (default 128 Ki: under 1 MB). */
  maxChars?: number;
  /** Runs `flush` at the end of the current tick (default `queueMicrotask`). */
  schedule?: (flush: () => void) => void;
}

/** What a batcher sent so far (logged when the farm stops, read by tests). */
export interface BatchStats {
  packets: number;
  batches: number;
}

/** The packets waiting for one subject, and its batches in flight. */
interface Lane {
  texts: string[];
  chars: number;
  waiters: ((delivered: boolean) => void)[];
  inFlight: number;
  scheduled: boolean;
}

export class FarmBatcher {
  readonly #send: BatchSender;
  readonly #maxInFlight: number;
  readonly #maxChars: number;
  readonly #schedule: (flush: () => void) => void;
  readonly #lanes = new Map<string, Lane>();
  readonly stats: BatchStats = { packets: 0, batches: 0 };

  constructor(send: BatchSender, options: BatchOptions = {}) {
    this.#send = send;
    this.#maxInFlight = options.maxInFlight ?? 2;
    this.#maxChars = options.maxChars ?? 128 * 1024;
    this.#schedule = options.schedule ?? queueMicrotask;
    if (!(this.#maxInFlight >= 1) || !(this.#maxChars >= 1)) {
      throw new Error("FarmBatcher needs maxInFlight and maxChars of at least 1");
    }
  }

  /**
   * Queues a packet for `subject`: resolves true once the batch holding it was acknowledged,
   * false when nobody took that batch (then the caller handles the packet, R43). Never rejects.
   */
  send(subject: string, what: Packet | Element): Promise<boolean> {
    const text = farmPacketText(what);
    let lane = this.#lanes.get(subject);
    if (!lane) {
      lane = { texts: [], chars: 0, waiters: [], inFlight: 0, scheduled: false };
      this.#lanes.set(subject, lane);
    }
    // A packet that would push the batch past its size closes the batch first.
    if (lane.texts.length > 0 && lane.chars + text.length > this.#maxChars) {
      this.#flush(subject, lane);
    }
    const delivered = new Promise<boolean>((resolve) => lane.waiters.push(resolve));
    lane.texts.push(text);
    lane.chars += text.length;
    if (lane.chars >= this.#maxChars) this.#flush(subject, lane);
    else this.#plan(subject, lane);
    return delivered;
  }

  /** Packets queued and not yet sent, over every subject. */
  get queued(): number {
    let count = 0;
    for (const lane of this.#lanes.values()) count += lane.texts.length;
    return count;
  }

  /** Sends a lane's batch at the end of the tick, if it may have another batch in flight. */
  #plan(subject: string, lane: Lane): void {
    if (lane.scheduled || lane.texts.length === 0 || lane.inFlight >= this.#maxInFlight) return;
    lane.scheduled = true;
    this.#schedule(() => {
      lane.scheduled = false;
      if (lane.inFlight < this.#maxInFlight) this.#flush(subject, lane);
    });
  }

  #flush(subject: string, lane: Lane): void {
    if (lane.texts.length === 0) return;
    const data = encoder.encode(lane.texts.length === 1 ? lane.texts[0] : lane.texts.join(""));
    const waiters = lane.waiters;
    this.stats.packets += waiters.length;
    this.stats.batches++;
    lane.texts = [];
    lane.chars = 0;
    lane.waiters = [];
    lane.inFlight++;
    this.#send(subject, data).catch(() => false).then((delivered) => {
      lane.inFlight--;
      for (const resolve of waiters) resolve(delivered);
      const idle = lane.inFlight === 0 && lane.texts.length === 0 && !lane.scheduled;
      if (idle && this.#lanes.get(subject) === lane) {
        this.#lanes.delete(subject);
      } else this.#plan(subject, lane);
    });
  }
}
