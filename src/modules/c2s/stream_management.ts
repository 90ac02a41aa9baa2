/**
 * XEP-0198 Stream Management as a step of the c2s connection: `<enable/>` (§3), acks both ways
 * (`<r/>`, `<a/>`, §4), keeping what the client has not acknowledged, and resumption (§5): a
 * session stays detached after a dropped connection until a new stream resumes it or the resume
 * timeout ends it. The session manager never hears of either (src/tree/ROUTING.md R39).
 */
import { StreamError, type StreamErrorCondition } from "../../util/errors.ts";
import { NS_STANZAS_ERRORS } from "../../util/ns.ts";
import { Element } from "../../xml/element.ts";
import type { StreamControl } from "./stream.ts";

export const NS_SM = "urn:xmpp:sm:3";

/** Counters wrap at 2^32 (XEP-0198 §4). */
const WRAP = 2 ** 32;

/** Unacknowledged stanzas after which c2s asks the client for an ack (`<r/>`). */
export const REQUEST_ACK_AFTER = 5;

/** The counting part of one stream-managed session; it moves to the stream that resumes it. */
export class SmCounters {
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

/** A connection as its stream management sees it: the stream, and the session it carries. */
export interface ManagedStream extends StreamControl {
  /** The account SASL authenticated, once it did. */
  readonly username: string | undefined;
  /** The bound full JID, once the session manager confirmed it. */
  readonly jid: string | undefined;
  /** A bind request waits for the session manager's answer. */
  readonly binding: boolean;
  /** Ends the stream with a stream error (RFC 6120 §4.9). */
  streamError(condition: StreamErrorCondition, text: string): void;
  /** This stream resumed the session `jid` of connection `id`: it routes as that one now. */
  resumed(jid: string, id: string): void;
  /** A resuming stream took the session over: forget it and drop the socket without a word. */
  leave(): void;
  /** The detached session was not resumed (in time): end it for good. */
  expired(): void;
}

/** What the c2s module keeps for the connections' resumable sessions. */
export interface ResumableStreams<C> {
  /** Resumable sessions by resumption id, attached or detached. */
  readonly resumable: Map<string, StreamManagement>;
  /** The connection's socket is gone (its session may live on, detached). */
  socketGone(connection: C): void;
  /** `connection` resumed the session of connection `routeId`: routes for it now reach it. */
  takeOver(connection: C, routeId: string): void;
}

/** Stream management of one connection, from `<enable/>` or `<resume/>` to the session's end. */
export class StreamManagement {
  readonly #stream: ManagedStream;
  readonly #resumable: Map<string, StreamManagement>;
  /** Once the client enabled it (or resumed). */
  #counters: SmCounters | undefined;
  /** The socket is gone but the session waits for a `<resume/>` until `#detachTimer`. */
  #detached = false;
  #detachTimer: number | undefined;

  constructor(stream: ManagedStream, resumable: Map<string, StreamManagement>) {
    this.#stream = stream;
    this.#resumable = resumable;
  }

  get detached(): boolean {
    return this.#detached;
  }

  /** One more stanza from the client was handled. */
  countIn(): void {
    this.#counters?.countIn();
  }

  /**
   * Writes a stanza to the client. With stream management it is kept until acknowledged (held
   * only, while detached), and an ack is asked for every few stanzas; more than `max-unacked`
   * ends the stream, or the detached session.
   */
  send(stanza: Element): void {
    const stream = this.#stream;
    const counters = this.#counters;
    if (!counters) return stream.write(stanza.toString());
    counters.unacked.push(stanza);
    const tooMany = counters.unacked.length > stream.ctx.config.streamManagement.maxUnacked;
    if (this.#detached) {
      if (tooMany) this.expire();
      return;
    }
    stream.write(stanza.toString());
    if (tooMany) {
      stream.streamError("resource-constraint", "Too many unacknowledged stanzas");
    } else if (!counters.requested && counters.unacked.length >= REQUEST_ACK_AFTER) {
      counters.requested = true;
      stream.write(smNonza("r"));
    }
  }

  /** XEP-0198 nonzas: `<enable/>`, `<resume/>`, `<r/>` and `<a/>`. */
  handle(nonza: Element): void {
    const counters = this.#counters;
    switch (nonza.local) {
      case "enable":
        return this.#enable(nonza);
      case "resume":
        return this.#resume(nonza);
      case "r":
        if (counters) return this.#stream.write(smNonza("a", { h: counters.handled }));
        break;
      case "a":
        if (!counters) break;
        if (!counters.ack(readH(nonza))) {
          throw new StreamError("undefined-condition", "h acknowledges more than was sent");
        }
        return;
    }
    throw new StreamError("unsupported-stanza-type", `<${nonza.local}> is not expected here`);
  }

  /** `<enable/>` (§3), on a bound stream, once. */
  #enable(nonza: Element): void {
    const stream = this.#stream;
    if (!stream.jid || this.#counters) return stream.write(failed("unexpected-request"));
    const timeout = stream.ctx.config.streamManagement.resumeTimeout;
    const resume = timeout > 0 && (nonza.attrs.resume === "true" || nonza.attrs.resume === "1");
    const counters = this.#counters = new SmCounters(resume);
    if (counters.token === undefined) return stream.write(smNonza("enabled"));
    this.#resumable.set(counters.token, this);
    const max = Math.ceil(timeout / 1000);
    stream.write(smNonza("enabled", { id: counters.token, resume: "true", max }));
  }

  /**
   * `<resume previd h/>` (§5) after SASL, instead of binding: takes over the session of the same
   * account, drops what the client acknowledged, and sends the rest again.
   */
  #resume(nonza: Element): void {
    const stream = this.#stream;
    if (stream.username === undefined || stream.jid || stream.binding || this.#counters) {
      return stream.write(failed("unexpected-request"));
    }
    const previd = nonza.attrs.previd ?? "";
    const old = this.#resumable.get(previd);
    if (
      !old || old === this || !old.#stream.jid || !old.#counters ||
      old.#stream.username !== stream.username || old.#stream.domain !== stream.domain
    ) return stream.write(failed("item-not-found"));
    const h = readH(nonza);
    const jid = old.#stream.jid;
    const counters = old.#counters;
    old.#leave();
    this.#counters = counters;
    stream.resumed(jid, old.#stream.id);
    this.#resumable.set(previd, this);
    if (!counters.ack(h)) {
      throw new StreamError("undefined-condition", "h acknowledges more than was sent");
    }
    counters.requested = false;
    stream.write(smNonza("resumed", { previd, h: counters.handled }));
    for (const stanza of counters.unacked) stream.write(stanza.toString());
    if (counters.unacked.length > 0) {
      counters.requested = true;
      stream.write(smNonza("r"));
    }
  }

  /** A resuming stream took this session over: let go of it without ending it. */
  #leave(): void {
    if (this.#detachTimer !== undefined) this.#stream.ctx.timer.clearTimeout(this.#detachTimer);
    this.#detached = false;
    this.#counters = undefined;
    this.#stream.leave();
  }

  /**
   * The socket is gone: a resumable session (§5) is kept detached for the resume timeout, and
   * stanzas for it are held (ROUTING.md R39). False when there is none to keep.
   */
  detach(): boolean {
    const stream = this.#stream;
    if (!stream.jid || this.#counters?.token === undefined) return false;
    this.#detached = true;
    const timer = stream.ctx.timer;
    this.#detachTimer = timer.setTimeout(
      () => this.expire(),
      stream.ctx.config.streamManagement.resumeTimeout,
    );
    stream.ctx.log.debug(`c2s connection ${stream.id}: ${stream.jid} detached, may resume`);
    return true;
  }

  /** A detached session was not resumed in time (or must end now): end it for good. */
  expire(): void {
    if (!this.#detached) return;
    this.#detached = false;
    this.#stream.ctx.timer.clearTimeout(this.#detachTimer!);
    this.#stream.expired();
  }

  /**
   * The session ends: its resumption id is forgotten, and the stanzas the client never
   * acknowledged are returned, for the session manager to route again (ROUTING.md R39).
   */
  end(): Element[] {
    const counters = this.#counters;
    this.#counters = undefined;
    const token = counters?.token;
    if (token !== undefined && this.#resumable.get(token) === this) this.#resumable.delete(token);
    return counters?.unacked ?? [];
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
