/**
 * XEP-0198 Stream Management, the counting part of one stream: the stanzas handled from the
 * client (our `h`, §4), the stanzas sent to it that it has not acknowledged yet (§5), the
 * resumption id (§5), and the nonzas c2s answers with. The connection (`connection.ts`) keeps a
 * session detached after a dropped connection and lets a new stream resume it; the session
 * manager never hears of either (src/tree/ROUTING.md R39).
 */
import { StreamError } from "../../util/errors.ts";
import { NS_STANZAS_ERRORS } from "../../util/ns.ts";
import { Element } from "../../xml/element.ts";

export const NS_SM = "urn:xmpp:sm:3";

/** Counters wrap at 2^32 (XEP-0198 §4). */
const WRAP = 2 ** 32;

/** Unacknowledged stanzas after which c2s asks the client for an ack (`<r/>`). */
export const REQUEST_ACK_AFTER = 5;

export class StreamManagement {
  /** Stanzas handled from the client since `<enable/>`: the `h` of our `<a/>`. */
  handled = 0;
  /** The client's last `h`: how many of our stanzas it acknowledged. */
  #acked = 0;
  /** Stanzas sent to the client (or held while detached) and not yet acknowledged, oldest first. */
  readonly unacked: Element[] = [];
  /** The resumption id (`<enabled id>`), when the client asked for resumption. */
  readonly token: string | undefined;
  /** An `<r/>` of ours is not answered yet. */
  requested = false;

  constructor(resume: boolean) {
    this.token = resume ? newToken() : undefined;
  }

  /** One more stanza from the client was handled. */
  countIn(): void {
    this.handled = (this.handled + 1) % WRAP;
  }

  /**
   * Drops the stanzas the client's `h` acknowledges. False when `h` acknowledges more than was
   * sent (§4: `undefined-condition` with `handled-count-too-high`).
   */
  ack(h: number): boolean {
    const count = (h - this.#acked + WRAP) % WRAP;
    if (count > this.unacked.length) return false;
    this.unacked.splice(0, count);
    this.#acked = h;
    this.requested = false;
    return true;
  }
}

/** The `h` attribute of an `<a/>` or `<resume/>`; `bad-format` when it is not a 32-bit count. */
export function readH(nonza: Element): number {
  const text = nonza.attrs.h ?? "";
  const h = /^\d{1,10}$/.test(text) ? Number(text) : NaN;
  if (!(h < WRAP)) throw new StreamError("bad-format", "The h attribute must be a 32-bit count");
  return h;
}

/** `<a h/>`, `<r/>`, `<enabled/>`, `<resumed/>` as written to the client. */
export function smNonza(name: string, attrs: Record<string, string | number> = {}): string {
  const element = new Element(name, { xmlns: NS_SM });
  for (const [key, value] of Object.entries(attrs)) element.attrs[key] = String(value);
  return element.toString();
}

/** `<failed/>` with a stanza error condition (§3, §5), and our `h` when there is one. */
export function failed(condition: string, h?: number): string {
  const element = new Element("failed", { xmlns: NS_SM });
  if (h !== undefined) element.attrs.h = String(h);
  element.c(condition, { xmlns: NS_STANZAS_ERRORS });
  return element.toString();
}

/** An unguessable resumption id: it is all a client needs, after SASL, to take a session over. */
function newToken(): string {
  return crypto.getRandomValues(new Uint8Array(18)).toBase64().replace(/[+/=]/g, "");
}

/** What the c2s module keeps for the connections' resumable sessions. */
export interface ResumableStreams<C> {
  /** Resumable sessions by resumption id, attached or detached. */
  readonly resumable: Map<string, C>;
  /** The connection's socket is gone (its session may live on, detached). */
  socketGone(connection: C): void;
  /** `connection` resumed the session of connection `routeId`: routes for it now reach it. */
  takeOver(connection: C, routeId: string): void;
}
