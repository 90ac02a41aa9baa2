/**
 * The session manager's state and the `SmApi` its features get (types.ts): the session
 * registry, the settings, and the ways to send a stanza (to a session through a route packet,
 * RFC 6120 §8.1 routing, replies and error replies per RFC 6120 §8.2–8.3).
 */
import { accountExists } from "../../accounts/store.ts";
import type { ModuleApi } from "../../server/module_api.ts";
import { errorReply, StanzaError } from "../../util/errors.ts";
import { domainOf, JID } from "../../util/jid.ts";
import { Element } from "../../xml/element.ts";
import { currentCause } from "./causes.ts";
import type { SmConfig } from "./config.ts";
import { inbound } from "./dispatch.ts";
import { KeyedQueue } from "./keyed_queue.ts";
import { Sessions } from "./sessions.ts";
import type { Session, SmApi } from "./types.ts";

export class SessionManager implements SmApi {
  readonly api: ModuleApi;
  readonly config: SmConfig;
  readonly sessions: Sessions = new Sessions();
  /** Stanzas `route()` processes locally, in order per recipient (RFC 6120 §10.1). */
  readonly #inboundQueue = new KeyedQueue();

  constructor(api: ModuleApi, config: SmConfig) {
    this.api = api;
    this.config = config;
  }

  /** Resolves once the stanzas `route()` took are processed (the section is stopping). */
  idle(): Promise<void> {
    return this.#inboundQueue.idle();
  }

  /** Exact host names of the section, and `*.domain` / `*` patterns, as the tree matches them. */
  isLocalHost(domain: string): boolean {
    const name = domainOf(domain);
    for (const pattern of this.api.hosts) {
      if (pattern === "*") return true;
      const lowered = pattern.toLowerCase().replace(/\.$/, "");
      if (lowered.startsWith("*.")) {
        if (name.endsWith(lowered.slice(1))) return true;
      } else if (lowered === name) return true;
    }
    return false;
  }

  isAdmin(jid: JID | string): boolean {
    const parsed = typeof jid === "string" ? JID.tryParse(jid) : jid;
    return parsed !== undefined && this.config.admins.has(parsed.bareString());
  }

  sendToSession(session: Session, stanza: Element): void {
    // The stanza travels inside the route as the same object (ROUTING.md, route table).
    this.deliver(
      new Element("route", { to: session.route, from: session.jid.toString() }, [stanza]),
    );
  }

  route(stanza: Element): void {
    const to = stanza.attrs.to;
    if (to === undefined) {
      this.api.log.debug(`Dropped a <${stanza.name}> without a to address`);
      return;
    }
    if (!this.isLocalHost(domainOf(to))) {
      this.deliver(stanza);
      return;
    }
    const key = JID.tryParse(to)?.bareString() ?? to;
    this.#inboundQueue.run(key, () => inbound(this, stanza)).catch((error) =>
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
    return true;
  }

  /** Sends a packet into the tree as caused by the packet being handled (ROUTING.md R22). */
  deliver(element: Element): void {
    this.api.deliver(element, currentCause());
  }
}

export function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
