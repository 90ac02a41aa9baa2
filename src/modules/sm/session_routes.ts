/**
 * The session manager's side of the c2s ⇄ sm route contract (ROUTING.md, "route"): open a
 * session and settle resource conflicts (RFC 6120 §7.7.2.2: the new session replaces the old),
 * take the stanzas a session sends, and end sessions on `<route type="error">`, whether c2s
 * sent it or the router bounced a route nobody took.
 */
import type { HandlerResult } from "../../tree/handler.ts";
import { StanzaError } from "../../util/errors.ts";
import { JID } from "../../util/jid.ts";
import { Element } from "../../xml/element.ts";
import { fromSession, inbound } from "./dispatch.ts";
import type { SessionManager } from "./session_manager.ts";
import { fullText, SmSession } from "./sessions.ts";

export function handleRoute(
  sm: SessionManager,
  route: Element,
): HandlerResult | Promise<HandlerResult> {
  switch (route.attrs.type) {
    case "session":
      open(sm, route);
      return "done";
    case "error":
      return end(sm, route);
    case undefined:
      return stanzaIn(sm, route);
    default:
      sm.api.log.debug(`Dropped a route of unknown type "${route.attrs.type}"`);
      return "done";
  }
}

/** `<route type="session" to="user@host/resource" from="c2s-id/connection-id"/>`. */
function open(sm: SessionManager, route: Element): void {
  const connection = route.attrs.from;
  const jid = route.attrs.to !== undefined ? JID.tryParse(route.attrs.to) : undefined;
  if (connection === undefined) {
    sm.api.log.warn("Dropped a session request without a from address");
    return;
  }
  if (!jid || jid.local === "" || jid.isBare || !sm.api.servesHost(jid.domain)) {
    refuse(sm, connection, route.attrs.to ?? sm.api.id, new StanzaError("jid-malformed"));
    return;
  }
  const full = jid.toString();
  const existing = sm.sessions.get(full);
  if (existing && existing.route === connection) {
    // The same connection asking again: it already has this session.
    sendOpened(sm, connection, full);
    return;
  }
  if (existing) {
    sm.endSession(
      existing,
      "replaced",
      new StanzaError("conflict", "Replaced by a new session for the same resource"),
    );
  }
  const session = new SmSession(jid, connection, sm.api.timer.now());
  sm.sessions.add(session);
  // opened first: c2s answers the bind iq before any stanza for the session reaches it (both
  // travel the same from→to pair, so they keep their order).
  sendOpened(sm, connection, full);
  sm.api.fire("resource-bind", { session });
}

function sendOpened(sm: SessionManager, connection: string, full: string): void {
  sm.deliver(new Element("route", { type: "session", to: connection, from: full }));
}

function refuse(sm: SessionManager, connection: string, from: string, error: StanzaError): void {
  sm.deliver(
    new Element("route", { type: "error", to: connection, from }, [error.toElement()]),
  );
}

/** `<route to="user@host/resource" from="c2s-id/connection-id">stanza</route>`. */
function stanzaIn(sm: SessionManager, route: Element): HandlerResult | Promise<HandlerResult> {
  const connection = route.attrs.from;
  const jid = route.attrs.to !== undefined ? JID.tryParse(route.attrs.to) : undefined;
  // The JID's text made once (JID.tryParse hands out one object per address), not per stanza.
  const session = jid ? sm.sessions.get(fullText(jid)) : undefined;
  if (!session || session.route !== connection) {
    // Not a session of ours (the sm restarted, or it was replaced): end that connection's
    // session so the client logs in again instead of talking into the void.
    if (connection !== undefined) {
      refuse(sm, connection, route.attrs.to ?? sm.api.id, new StanzaError("item-not-found"));
    }
    return "done";
  }
  const stanza = route.firstElement();
  if (!stanza) return "done";
  // Answered at once when every hook did (no promise, no per-pair wait in the router).
  const work = fromSession(sm, session, stanza);
  return work ? work.then(() => "done" as const) : "done";
}

/** `<route type="error">`: c2s closed the connection, or a route to it was undeliverable. */
function end(sm: SessionManager, route: Element): HandlerResult | Promise<HandlerResult> {
  const jid = route.attrs.to !== undefined ? JID.tryParse(route.attrs.to) : undefined;
  const session = jid ? sm.sessions.get(jid.toString()) : undefined;
  // A bounce (ROUTING.md R19) still holds what we tried to send; an end from c2s holds at most
  // an <error>.
  const bounced = route.elements.filter((child) => !child.is("error"));
  if (session && session.route === route.attrs.from) {
    sm.forget(
      session,
      bounced.length > 0 ? "undeliverable" : route.getChild("error") ? "error" : "closed",
    );
  }
  if (bounced.length === 0) return "done";
  return Promise.all(bounced.map((stanza) => salvage(sm, stanza))).then(() => "done" as const);
}

/**
 * What a dead connection could not take, or c2s hands back unacknowledged (XEP-0198, ROUTING.md
 * R39): a normal or chat message is routed again (to the user's other resources or offline
 * storage, RFC 6121 §8.5.3.2.1), so it is not lost; an iq request gets service-unavailable; the
 * rest is dropped.
 */
async function salvage(sm: SessionManager, stanza: Element): Promise<void> {
  const type = stanza.attrs.type;
  if (stanza.local === "message" && (type === undefined || type === "normal" || type === "chat")) {
    await inbound(sm, stanza);
  } else if (stanza.local === "iq" && (type === "get" || type === "set")) {
    sm.replyError(stanza, new StanzaError("service-unavailable"));
  }
}
