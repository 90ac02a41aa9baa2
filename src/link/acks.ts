/**
 * Acknowledgements on links where both ends are jabberd (ROUTING.md "Links to other processes",
 * R48): the receiver counts the packets it took from a stream and answers `<a xmlns='jabberd:link'
 * h='N'/>` (N = packets taken on this stream so far); in the handshake of the next stream each side
 * tells the other which stream it last read and how many packets it took there, so the sender
 * resends exactly the ones not taken.
 *
 * XEP-0198's idea with less: no `<r/>` (the receiver acknowledges on its own after each batch of
 * packets it read, so the sender never has to ask), no `<enable/>`/`<resume/>` round trips (the
 * XEP-0114 handshake already is one: its attributes carry the offer and the counts), and the
 * counting is per stream, named by the stream id both sides already know.
 */
import { Element } from "../xml/element.ts";
import { NS_LINK } from "./wire.ts";

/** The stream-header attribute an `<accept>` advertises acknowledgements with. */
export const ACKS_ATTR = "jabberd:acks";
/** Handshake attributes: the last stream the sender of the handshake read, and what it took. */
export const PREV_ATTR = "jabberd:prev";
export const H_ATTR = "jabberd:h";

/** What a side took from the other on its last stream: the stream id and the count. */
export interface Receipt {
  id: string;
  h: number;
}

/** Attributes for a `<handshake>` (either direction) that turns acknowledgements on. */
export function handshakeAckAttrs(previous: Receipt | undefined): Record<string, string> {
  const attrs: Record<string, string> = { "xmlns:jabberd": NS_LINK, [ACKS_ATTR]: "1" };
  if (previous) {
    attrs[PREV_ATTR] = previous.id;
    attrs[H_ATTR] = String(previous.h);
  }
  return attrs;
}

/**
 * Reads a `<handshake>`: `undefined` when it does not turn acknowledgements on (a third-party
 * XEP-0114 peer), else the peer's receipt for its last stream, if it gave a valid one.
 */
export function readHandshakeAcks(
  handshake: Element,
): { previous: Receipt | undefined } | undefined {
  if (handshake.attrs[ACKS_ATTR] !== "1") return undefined;
  const id = handshake.attrs[PREV_ATTR];
  const h = handshake.attrs[H_ATTR];
  if (!id || h === undefined || !/^\d{1,15}$/.test(h)) return { previous: undefined };
  return { previous: { id, h: Number(h) } };
}

/** The acknowledgement element: `h` packets taken on this stream so far. */
export function ackElement(h: number): string {
  return `<a xmlns='${NS_LINK}' h='${h}'/>`;
}

/** The count of an acknowledgement element, or `undefined` when the element is not one. */
export function readAck(element: Element): number | undefined {
  if (!element.is("a", NS_LINK)) return undefined;
  const h = element.attrs.h ?? "";
  if (!/^\d{1,15}$/.test(h)) {
    throw new RangeError(`An acknowledgement needs h='<count>', not '${h}'`);
  }
  return Number(h);
}

/**
 * The receiving side of one peer (one per `<connect>`, one per peer name on an `<accept>`): the
 * count on the current stream, kept after the stream ends so the next handshake can tell it. Lives
 * as long as the process: a restarted process has none, so the sender resends everything unacked.
 */
export class Receiver {
  #receipt: Receipt | undefined;
  #send: ((data: string) => void) | undefined;
  #ackDue = false;

  /** What to tell in the next handshake: the last stream read and how many packets it gave. */
  get previous(): Receipt | undefined {
    return this.#receipt ? { ...this.#receipt } : undefined;
  }

  /** A new stream is live: counting starts at 0 on it; acknowledgements are written with `send`. */
  begin(streamId: string, send: (data: string) => void): void {
    this.#receipt = { id: streamId, h: 0 };
    this.#send = send;
    this.#ackDue = false;
  }

  /**
   * One packet taken from the stream `streamId` (call it after delivering the packet). The
   * acknowledgement goes out once the packets read in the same turn are all counted.
   */
  took(streamId: string): void {
    const receipt = this.#receipt;
    if (!receipt || receipt.id !== streamId) return;
    receipt.h++;
    if (this.#ackDue) return;
    this.#ackDue = true;
    queueMicrotask(() => {
      this.#ackDue = false;
      if (this.#receipt?.id === streamId) this.#send?.(ackElement(this.#receipt.h));
    });
  }
}

/** Reads an attribute of a stream header the accept side advertised acknowledgements with. */
export function advertisesAcks(header: Element): boolean {
  return header.attrs[ACKS_ATTR] === "1";
}

/** Header attributes an `<accept>` adds to advertise acknowledgements. */
export function advertiseAcksAttrs(): Record<string, string> {
  return { "xmlns:jabberd": NS_LINK, [ACKS_ATTR]: "1" };
}

/** A built `<handshake>` with the acknowledgement attributes (and the digest, from the dialer). */
export function ackHandshake(previous: Receipt | undefined, digest?: string): Element {
  return new Element("handshake", handshakeAckAttrs(previous), digest ? [digest] : []);
}
