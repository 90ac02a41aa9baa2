/**
 * Presence (RFC 6121 §4): initial presence with probes and the presence of the user's other
 * resources (§4.2), answering probes (§4.3), subsequent presence (§4.4), unavailable presence
 * and the end of a session (§4.5), directed presence remembered and ended (§4.6), and inbound
 * presence for a local user's bare JID (§8.5.2.1.1).
 *
 * Choices where the RFC leaves room:
 * - broadcasts go to the contacts with subscription from/both and to every available resource
 *   of the user, the sending one included (it sees its own presence echoed, as clients expect);
 * - probes are sent from the user's bare JID, so the answers reach every available resource;
 * - a probe from someone not subscribed (no from/both), or for an account that has no item for
 *   the prober, is answered "unsubscribed" (§4.3.2), which repairs a subscription state that went
 *   out of step; with no resource available the answer is unavailable presence from the bare JID;
 * - `session-available` ({ session }) is fired after every available presence a session sends
 *   (types.ts), once its `available`, `priority` and `presence` are updated;
 * - stored subscription requests (pending in) are delivered to a session on its initial presence
 *   (§3.1.3), again on every login until they are answered.
 */
import { describe } from "../../../../util/errors.ts";
import { bareOf } from "../../../../util/jid.ts";
import type { Element } from "../../../../xml/element.ts";
import { xml } from "../../../../xml/element.ts";
import type {
  OutboundEvent,
  Session,
  SessionEvent,
  SmApi,
  SmFeature,
  StanzaEvent,
} from "../../types.ts";
import {
  availableSessions,
  deliverToAvailable,
  readdressed,
  sendPresenceOf,
} from "./presence_broadcast.ts";
import type { PresenceView } from "./presence_view.ts";
import { rosterStoreOf } from "./store.ts";

/** Where a session keeps the addresses it sent directed available presence to (§4.6). */
const DIRECTED = "presence:directed";

/** The addresses a session sent directed presence to and has not yet sent unavailable to. */
export function directedOf(session: Session): Set<string> {
  let set = session.data.get(DIRECTED) as Set<string> | undefined;
  if (!set) {
    set = new Set();
    session.data.set(DIRECTED, set);
  }
  return set;
}

/** The priority of a presence (RFC 6121 §4.7.2.3): an integer -128..127, 0 when absent or bad. */
export function priorityOf(presence: Element): number {
  const text = presence.getChildText("priority")?.trim();
  if (text === undefined || !/^[+-]?\d+$/.test(text)) return 0;
  const value = Number(text);
  return value < -128 || value > 127 ? 0 : value;
}

/**
 * Sends one presence from a session to its contacts and to the user's available resources
 * (`also`: the sending session too, whether or not it is available).
 */
function broadcast(sm: SmApi, session: Session, presence: Element, view: PresenceView): void {
  const from = session.jid.toString();
  const bare = session.jid.bareString();
  for (const contact of view.subscribers()) sm.route(readdressed(presence, from, contact));
  const own = new Set(availableSessions(sm, bare));
  own.add(session);
  for (const other of own) {
    sm.sendToSession(other, readdressed(presence, from, other.jid.toString()));
  }
}

/** Ends directed presence (§4.6.3): unavailable to each remembered address not in `skip`. */
function endDirected(sm: SmApi, session: Session, skip: Set<string>, unavailable: Element) {
  const from = session.jid.toString();
  const directed = directedOf(session);
  for (const target of directed) {
    if (!skip.has(bareOf(target) ?? target)) sm.route(readdressed(unavailable, from, target));
  }
  directed.clear();
}

/** A session sends presence without `to`: initial, subsequent or unavailable (§4.2, 4.4, 4.5). */
async function outboundBroadcast(sm: SmApi, session: Session, stanza: Element): Promise<void> {
  const user = session.jid.bareString();
  const store = rosterStoreOf(sm);
  await store.exclusive(user, async () => {
    const view = await store.view(user);
    // What is broadcast: the client's presence without addresses (each copy gets its own).
    const presence = readdressed(stanza, undefined, undefined);
    if (stanza.attrs.type === "unavailable") {
      const wasAvailable = session.available;
      session.available = false;
      session.presence = undefined;
      if (wasAvailable) broadcast(sm, session, presence, view);
      endDirected(sm, session, new Set(wasAvailable ? view.subscribers() : []), presence);
      return;
    }
    const initial = !session.available;
    session.available = true;
    session.priority = priorityOf(stanza);
    session.presence = presence;
    broadcast(sm, session, presence, view);
    if (initial) {
      const full = session.jid.toString();
      for (const contact of view.publishers()) {
        sm.route(xml("presence", { type: "probe", from: user, to: contact }));
      }
      // §4.2.2: the new resource learns about the user's other available resources.
      for (const other of availableSessions(sm, user)) {
        if (other === session || !other.presence) continue;
        sm.sendToSession(session, readdressed(other.presence, other.jid.toString(), full));
      }
      // §3.1.3: requests that came while the user was away (the view knows whether any did).
      if (view.hasPending) {
        for (const request of (await store.load(user)).pending.values()) {
          sm.sendToSession(session, request);
        }
      }
    }
    sm.api.fire("session-available", { session });
  });
}

/** A session sends directed presence (§4.6.2): remembered so that it can be ended later. */
function outboundDirected({ origin: session, stanza, to }: OutboundEvent): void {
  if (!to) return;
  const target = to.toString();
  const type = stanza.attrs.type;
  if (type === undefined) directedOf(session).add(target);
  else if (type === "unavailable") directedOf(session).delete(target);
}

/** Answers a probe for a local user (§4.3.2). */
async function answerProbe(sm: SmApi, { to, from }: StanzaEvent): Promise<void> {
  if (!from) return;
  const user = to.bareString();
  const prober = from.bareString();
  const replyTo = from.toString();
  if (prober === user) {
    sendPresenceOf(sm, user, replyTo);
    return;
  }
  const store = rosterStoreOf(sm);
  await store.exclusive(user, async () => {
    // The view, not the roster: a login with 50 contacts online sends 50 probes.
    if (!(await store.view(user)).seenBy(prober)) {
      sm.route(xml("presence", { type: "unsubscribed", from: user, to: prober }));
      return;
    }
    if (sendPresenceOf(sm, user, replyTo) === 0) {
      sm.route(xml("presence", { type: "unavailable", from: user, to: replyTo }));
    }
  });
}

/** The session ends (§4.5.2, §4.6.3): unavailable for it, if it was available or sent any. */
async function sessionEnded(sm: SmApi, session: Session): Promise<void> {
  const wasAvailable = session.available;
  session.available = false;
  session.presence = undefined;
  const user = session.jid.bareString();
  const store = rosterStoreOf(sm);
  await store.exclusive(user, async () => {
    try {
      if (wasAvailable || directedOf(session).size > 0) {
        sendUnavailable(sm, session, wasAvailable, await store.view(user));
      }
    } finally {
      // The user's last session ended: the view is read again at the next login.
      if (sm.sessions.ofUser(user).every((other) => other === session)) store.forget(user);
    }
  });
}

/** Unavailable presence of an ended session to its contacts, resources and directed. */
function sendUnavailable(
  sm: SmApi,
  session: Session,
  wasAvailable: boolean,
  view: PresenceView,
): void {
  const user = session.jid.bareString();
  const unavailable = xml("presence", { type: "unavailable" });
  const from = session.jid.toString();
  if (wasAvailable) {
    for (const contact of view.subscribers()) sm.route(readdressed(unavailable, from, contact));
    for (const other of availableSessions(sm, user)) {
      if (other !== session) {
        sm.sendToSession(other, readdressed(unavailable, from, other.jid.toString()));
      }
    }
  }
  endDirected(sm, session, new Set(wasAvailable ? view.subscribers() : []), unavailable);
}

export const presence: SmFeature = {
  name: "presence",
  register(sm) {
    for (const kind of ["bare", "full", "host"]) {
      sm.api.hook<OutboundEvent>(`pre-presence/${kind}`, (event) => {
        const { stanza, origin } = event;
        const type = stanza.attrs.type;
        if (event.to === undefined) {
          if (type === undefined || type === "unavailable") {
            return outboundBroadcast(sm, origin, stanza);
          }
          // A probe, error or subscription stanza without an address goes nowhere.
          return true;
        }
        if (type === undefined || type === "unavailable") outboundDirected(event);
        // Routed by the core as the client addressed it.
        return undefined;
      }, 5);
    }
    sm.api.hook<StanzaEvent>("presence/bare", (event) => {
      const { stanza } = event;
      const type = stanza.attrs.type;
      if (type === "probe") return answerProbe(sm, event);
      if (type !== undefined && type !== "unavailable" && type !== "error") return undefined;
      deliverToAvailable(sm, event.to.bareString(), stanza);
      // With no available resource the presence is dropped (§8.5.2.1.1 / §8.5.2.2.1).
      return true;
    }, 5);
    sm.api.hook<SessionEvent>("resource-unbind", ({ session }) => {
      sessionEnded(sm, session).catch((error) =>
        sm.api.log.error(`Unavailable presence for ${session.jid} failed: ${describe(error)}`)
      );
      return undefined;
    });
  },
};
