/**
 * Presence helpers shared by the roster, subscription and presence features (RFC 6121 §4):
 * delivering a stanza to a user's available resources and sending the user's current presence
 * (or its end) to one contact.
 */
import type { Element } from "../../../../xml/element.ts";
import { xml } from "../../../../xml/element.ts";
import type { Session, SmApi } from "../../types.ts";

/** The sessions of a bare JID that sent available presence (RFC 6121 §4.1 "available"). */
export function availableSessions(sm: SmApi, bare: string): Session[] {
  return sm.sessions.ofUser(bare).filter((session) => session.available);
}

/** A copy of `stanza` with new addresses (undefined leaves that address out). */
export function readdressed(stanza: Element, from: string | undefined, to: string | undefined) {
  const copy = stanza.clone();
  if (from === undefined) delete copy.attrs.from;
  else copy.attrs.from = from;
  if (to === undefined) delete copy.attrs.to;
  else copy.attrs.to = to;
  return copy;
}

/**
 * Delivers a stanza for a bare JID to each available resource (RFC 6121 §8.5.2.1.1: presence to
 * the bare JID goes to all of them); answers how many got it.
 */
export function deliverToAvailable(sm: SmApi, bare: string, stanza: Element): number {
  const sessions = availableSessions(sm, bare);
  for (const session of sessions) sm.sendToSession(session, stanza);
  return sessions.length;
}

/**
 * Sends the last presence of each available resource of `user` to `to` (RFC 6121 §3.1.5 after
 * approving a subscription, §4.3.2 answering a probe); answers how many were sent.
 */
export function sendPresenceOf(sm: SmApi, user: string, to: string): number {
  const sessions = availableSessions(sm, user);
  for (const session of sessions) {
    const presence = session.presence ?? xml("presence");
    sm.route(readdressed(presence, session.jid.toString(), to));
  }
  return sessions.length;
}

/**
 * Sends unavailable presence from each available resource of `user` to `to` (RFC 6121 §3.2.2
 * and §3.3.3: a contact that no longer may see the user's presence sees the user go away).
 */
export function sendUnavailableOf(sm: SmApi, user: string, to: string): void {
  for (const session of availableSessions(sm, user)) {
    sm.route(xml("presence", { type: "unavailable", from: session.jid.toString(), to }));
  }
}
