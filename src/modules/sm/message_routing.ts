/**
 * The core's default handlers (priority -1) for stanzas to local users: message delivery per
 * RFC 6121 §8.5.2 (bare JID) and §8.5.3 (full JID), iq and presence to a full JID.
 *
 * Decision for RFC 6121 §8.5.2.1.1 (normal and chat to a bare JID with several non-negative
 * resources): the message goes to every available resource that shares the highest priority,
 * so no client of equal standing misses it; resources of lower priority do not get it.
 */
import { StanzaError } from "../../util/errors.ts";
import type { SessionManager } from "./session_manager.ts";
import { bareText, fullText } from "./sessions.ts";
import type { Session, StanzaEvent } from "./types.ts";

/** Priority of the core's defaults: features hook at 0 or above and run first. */
export const DEFAULT_PRIORITY = -1;

const SUBSCRIPTION_TYPES = new Set([
  "subscribe",
  "subscribed",
  "unsubscribe",
  "unsubscribed",
  "probe",
]);

export function registerDefaultRouting(sm: SessionManager): void {
  const { api } = sm;
  api.hook<StanzaEvent>("message/bare", (event) => messageToBare(sm, event), DEFAULT_PRIORITY);
  api.hook<StanzaEvent>("message/full", (event) => messageToFull(sm, event), DEFAULT_PRIORITY);
  api.hook<StanzaEvent>("message/host", ({ stanza }) => {
    // A message to the server itself that no feature understood (RFC 6121 §8.5.1 spirit).
    sm.replyError(stanza, new StanzaError("service-unavailable"));
    return true;
  }, DEFAULT_PRIORITY);
  api.hook<StanzaEvent>("iq/full", ({ stanza, to }) => {
    const session = sm.sessions.get(fullText(to));
    // RFC 6121 §8.5.3.2.1: an iq for a resource that does not exist gets service-unavailable.
    if (session) sm.sendToSession(session, stanza);
    else sm.replyError(stanza, new StanzaError("service-unavailable"));
    return true;
  }, DEFAULT_PRIORITY);
  api.hook<StanzaEvent>("presence/full", (event) => {
    const { stanza } = event;
    const type = stanza.attrs.type;
    if (type !== undefined && SUBSCRIPTION_TYPES.has(type)) {
      // RFC 6121 §8.5.3.1 and §8.5.3.2.1: subscription presence and probes are handled as if
      // sent to the bare JID; that belongs to the presence feature.
      return api.fire("presence/bare", event) ?? true;
    }
    // Available, unavailable and error presence go to that resource, or nowhere (§8.5.3.2.1).
    const session = sm.sessions.get(fullText(event.to));
    if (session) sm.sendToSession(session, stanza);
    return true;
  }, DEFAULT_PRIORITY);
}

/** RFC 6121 §8.5.2: a message to a local user's bare JID. */
export function messageToBare(sm: SessionManager, event: StanzaEvent): unknown {
  const { stanza, to } = event;
  const type = typeOf(stanza.attrs.type);
  // §8.5.2.1.4, §8.5.2.2.4: an error is silently ignored.
  if (type === "error") return true;
  if (type === "groupchat") {
    // §8.5.2.1.2, §8.5.2.2.2: never delivered to a bare JID.
    sm.replyError(stanza, new StanzaError("service-unavailable"));
    return true;
  }
  // One pass over the user's sessions, no arrays: every message to a bare JID comes here.
  const sessions = sm.sessions.ofUser(bareText(to));
  if (type === "headline") {
    // §8.5.2.1.3: every non-negative resource; §8.5.2.2.3: none, silently ignored.
    for (const session of sessions) {
      if (session.available && session.priority >= 0) sm.sendToSession(session, stanza);
    }
    return true;
  }
  // normal and chat, §8.5.2.1.1: the most available resources (see the file comment).
  let top = -1;
  let first: Session | undefined;
  let several = false;
  for (const session of sessions) {
    if (!session.available || session.priority < 0 || session.priority < top) continue;
    if (session.priority > top) {
      top = session.priority;
      first = session;
      several = false;
    } else several = true;
  }
  if (first) {
    if (!several) sm.sendToSession(first, stanza);
    else {
      for (const session of sessions) {
        if (session.available && session.priority === top) sm.sendToSession(session, stanza);
      }
    }
    return true;
  }
  // §8.5.2.2.1: no (non-negative) available resource: offline storage, or an error.
  const stored = sm.api.fire("message/offline", event);
  if (stored !== undefined) return stored;
  sm.replyError(stanza, new StanzaError("service-unavailable"));
  return true;
}

/** RFC 6121 §8.5.3: a message to a local user's full JID. */
export function messageToFull(sm: SessionManager, event: StanzaEvent): unknown {
  const { stanza, to } = event;
  const session = sm.sessions.get(fullText(to));
  if (session) {
    // §8.5.3.1: the resource exists.
    sm.sendToSession(session, stanza);
    return true;
  }
  // §8.5.3.2.1: no such resource.
  switch (typeOf(stanza.attrs.type)) {
    case "groupchat":
      sm.replyError(stanza, new StanzaError("service-unavailable"));
      return true;
    case "headline":
    case "error":
      return true;
    default:
      // normal and chat: treated as if sent to the bare JID.
      return messageToBare(sm, event);
  }
}

/** RFC 6121 §5.2.2: a missing or unknown type is handled as normal. */
function typeOf(type: string | undefined): string {
  switch (type) {
    case "chat":
    case "error":
    case "groupchat":
    case "headline":
      return type;
    default:
      return "normal";
  }
}
