/**
 * Packets between farm nodes (ROUTING.md R43): the node-link wire format of `src/link/`
 * ("Links to other processes"), with each packet's hop count, so every kind travels and a loop
 * across nodes stops as one inside a node does (R22). One NATS message holds one or more packets
 * one after another (a batch, `batch.ts`): the format frames them, as on a node link.
 *
 * The receiver reads the messages as one endless node-link stream: a stream header written once,
 * then each message's bytes, so every packet is parsed by the same strict parser as on a node
 * link and gets the same namespaces.
 */
import { decodePacket, encodePacket, linkHeaderAttrs, NS_NODE_LINK } from "../../link/wire.ts";
import { Packet } from "../../tree/packet.ts";
import { Element, startTag } from "../../xml/element.ts";
import { NS_STREAMS, StreamParser } from "../../xml/stream_parser.ts";

const encoder = new TextEncoder();

/** The largest message a node accepts from another (a stanza limit is c2s's job, not ours). */
export const MAX_FARM_PACKET_BYTES = 16 * 1024 * 1024;

/** A packet (or an element, as a new packet) as node-link text, its hop count included. */
export function farmPacketText(what: Packet | Element): string {
  const packet = what instanceof Packet ? what : new Packet(what);
  return encodePacket(packet, true);
}

/** A packet (or an element, as a new packet) as the bytes of one NATS message. */
export function encodeFarmPacket(what: Packet | Element): Uint8Array {
  return encoder.encode(farmPacketText(what));
}

/** The packets of one message; `error` says why the rest of a malformed one was dropped. */
export interface FarmMessageRead {
  packets: Packet[];
  error?: Error;
}

/** Reads packets from NATS messages; one reader per subscription, messages in order. */
export class FarmPacketReader {
  #parser!: StreamParser;
  #got: Element[] = [];
  #failure: Error | undefined;

  constructor() {
    this.#start();
  }

  #start(): void {
    this.#parser = new StreamParser({
      onStreamStart() {},
      onStanza: (element) => void this.#got.push(element),
      onStreamEnd() {},
      onError: (error) => void (this.#failure = error),
    }, { maxStanzaBytes: MAX_FARM_PACKET_BYTES });
    const header = new Element("stream:stream", {
      xmlns: NS_NODE_LINK,
      "xmlns:stream": NS_STREAMS,
      ...linkHeaderAttrs(),
    });
    this.#parser.write(encoder.encode(startTag(header)));
  }

  /**
   * Every packet in one message, in order, each one hop further for the crossing. A malformed
   * message gives the complete packets before the fault and an `error`; the message must end
   * on a packet's end, or its last packet counts as malformed.
   */
  readAll(data: Uint8Array): FarmMessageRead {
    this.#got = [];
    this.#parser.write(data);
    const elements = this.#got;
    this.#got = [];
    let error = this.#failure;
    if (!error && (elements.length === 0 || this.#parser.inStanza)) {
      error = new Error(
        elements.length === 0
          ? "A farm message did not hold one complete packet"
          : "A farm message ended inside a packet",
      );
    }
    if (error) {
      // A broken message must not break the next ones: a fresh stream for them.
      this.#failure = undefined;
      this.#start();
    }
    return { packets: elements.map((element) => decodePacket(element, true)), error };
  }

  /** The one packet in a message; throws when it is malformed or holds none. */
  read(data: Uint8Array): Packet {
    const { packets, error } = this.readAll(data);
    if (error || packets.length !== 1) {
      throw error ?? new Error(`A farm message held ${packets.length} packets, not one`);
    }
    return packets[0];
  }
}
