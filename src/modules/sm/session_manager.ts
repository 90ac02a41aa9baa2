/**
 * The session manager's state and the `SmApi` its features get (types.ts): the session
 * registry, the settings, and the ways to send a stanza (to a session through a route packet,
 * RFC 6120 §8.1 routing, replies and error replies per RFC 6120 §8.2–8.3).
 */
import { accountExists } from "../../accounts/store.ts";
import type { ModuleApi } from "../../server/module_api.ts";
import { describe, errorReply, StanzaError } from "../../util/errors.ts";
import { JID } from "../../util/jid.ts";
import { Element } from "../../xml/element.ts";
import { currentCause } from "./causes.ts";
import type { SmConfig } from "./config.ts";
import { inbound } from "./dispatch.ts";
import type { FarmHomes } from "./farm_homes.ts";
import { KeyedQueue } from "../../util/keyed_queue.ts";
import { fullOf, Sessions } from "./sessions.ts";
import type { Session, SmApi } from "./types.ts";

export class SessionManager implements SmApi {
  readonly api: ModuleApi;
  readonly config: SmConfig;
  readonly sessions: Sessions = new Sessions();
  /** The farm part (farm_homes.ts), set at register when a `<farm>` offers one. */
  homes: FarmHomes | undefined = undefined;
  /** Stanzas `route()` processes locally, in order per recipient (ROUTING.md, "Who keeps which order"). */
  readonly #inboundQueue = new KeyedQueue();

  constructor(api: ModuleApi, config: SmConfig) {
    this.api = api;
    this.config = config;
  }

  /** Resolves once the stanzas `route()` took are processed (the section is stopping). */
  idle(): Promise<void> {
    return this.#inboundQueue.idle();
  }

  isAdmin(jid: JID | string): boolean {
    const parsed = typeof jid === "string" ? JID.tryParse(jid) : jid;
    return parsed !== undefined && this.config.admins.has(parsed.bareString());
  }

  sendToSession(session: Session, stanza: Element): void {
    // The stanza travels inside the route as the same object (ROUTING.md, route table).
    this.deliver(new Element("route", { to: session.route, from: fullOf(session) }, [stanza]));
  }

  route(stanza: Element): void {
    const to = stanza.attrs.to === undefined ? undefined : JID.tryParse(stanza.attrs.to);
    if (!to) {
      this.api.log.debug(`Dropped a <${stanza.name}> without a valid to address`);
      return;
    }
    if (!this.api.servesHost(to.domain)) {
      this.deliver(stanza);
      return;
    }
    // Processed here, one recipient at a time in the order they were made: what the sm sends
    // one user comes from several addresses (a contact's bare JID for "subscribed", its full
    // JID for the presence that follows, RFC 6121 §3.1.5), which the router's per-pair order
    // (ROUTING.md R23) would not keep.
    this.#inboundQueue.run(to.bareString(), () => inbound(this, stanza, to)).catch((error) =>
      this.api.log.error(`Failed to process a <${stanza.name}> to ${to}: ${describe(error)}`)
    );
  }

  reply(iq: Element, payload?: Element): void {
    const result = new Element("iq", { type: "result", id: iq.attrs.id ?? "" });
    if (iq.attrs.from !== undefined) result.attrs.to = iq.attrs.from;
    if (iq.attrs.to !== undefined) result.attrs.from = iq.attrs.to;
    if (payload) result.append(payload);
    this.route(result);
  }

  replyError(stanza: Element, error: StanzaError): void {
    const reply = errorReply(stanza, error);
    if (reply) this.route(reply);
  }

  userExists(bare: string): Promise<boolean> {
    return accountExists(this.api.xdb, bare);
  }

  endSession(session: Session, reason: string, error?: StanzaError): void {
    if (!this.forget(session, reason)) return;
    const condition = error ?? new StanzaError("undefined-condition");
    this.deliver(
      new Element(
        "route",
        { type: "error", to: session.route, from: session.jid.toString() },
        [condition.toElement()],
      ),
    );
  }

  /**
   * Fires `resource-unbind` while the session is still registered (so the presence feature can
   * still see it and send unavailable), then forgets it. False when it was already gone.
   */
  forget(session: Session, reason: string): boolean {
    if (this.sessions.get(session.jid.toString()) !== session) return false;
    try {
      this.api.fire("resource-unbind", { session, reason });
    } finally {
      this.sessions.delete(session);
    }
    const lasted = formatDuration(this.api.timer.now() - session.started);
    this.api.log.info(`${session.jid} logged out after ${lasted} (${reason})`);
    return true;
  }

  /** Sends a packet into the tree as caused by the packet being handled (ROUTING.md R22). */
  deliver(element: Element): void {
    this.api.deliver(element, currentCause());
  }
}

/** A session's length for the log: `42s`, `5m 3s`, `2h 0m 9s`, `3d 1h 0m 0s`. */
export function formatDuration(ms: number): string {
  let rest = Math.max(0, Math.floor(ms / 1000));
  const parts: string[] = [];
  for (const [unit, size] of [["d", 86_400], ["h", 3_600], ["m", 60]] as const) {
    const count = Math.floor(rest / size);
    rest -= count * size;
    if (count > 0 || parts.length > 0) parts.push(`${count}${unit}`);
  }
  parts.push(`${rest}s`);
  return parts.join(" ");
}
