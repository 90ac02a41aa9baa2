/**
 * XEP-0352 Client State Indication: a client says `<inactive/>` (its screen is off) and
 * `<active/>`; while inactive its session gets no unimportant stanzas, which are held and sent
 * on `<active/>`, so a phone's radio sleeps. c2s offers the stream feature and passes the two
 * nonzas on in a route; the session manager fires them as `nonza/urn:xmpp:csi:0:{name}`.
 *
 * Held (§5 leaves this to the server; Prosody's mod_csi_simple is the model): presence from
 * contacts, only the latest of each sender kept; chat states and other messages without a body
 * (PEP notifications among them). Anything else, a message with a body, an encrypted one, an
 * iq, goes through at once, after what was held so that the client sees everything in order.
 * At most `MAX_HELD` stanzas are held; one more sends them all.
 *
 * What is seen: the stanzas that reach a session through the session manager's events (message
 * and presence to the session's full JID, presence to its bare JID). The user's own other
 * resources' presence and roster pushes are written to sessions directly and are not held.
 */
import { NS_CSI } from "../../../util/ns.ts";
import type { Element } from "../../../xml/element.ts";
import type { Session, SmApi, SmFeature, StanzaEvent } from "../types.ts";

/** The most stanzas held for one session before they are all sent. */
export const MAX_HELD = 100;

const STATE = "csi";

/** What an inactive session holds: stanzas in arrival order, a presence per sender at most. */
interface Held {
  stanzas: Element[];
}

/** What the session manager fires for a nonza a session's stream passed on. */
interface NonzaEvent {
  session: Session;
  element: Element;
}

/** True for what may wait while the client is inactive (see the file comment). */
export function mayWait(stanza: Element): boolean {
  if (stanza.is("presence")) {
    const type = stanza.attrs.type;
    return type === undefined || type === "unavailable";
  }
  if (!stanza.is("message") || stanza.attrs.type === "error") return false;
  if (stanza.getChild("body") !== undefined) return false;
  // OMEMO and OpenPGP messages carry no plain body but are messages all the same.
  return !stanza.getChild("encrypted") && !stanza.getChild("openpgp");
}

function heldOf(session: Session): Held | undefined {
  return session.data.get(STATE) as Held | undefined;
}

/** Writes everything held for the session, in order, and stops holding if `active`. */
function flush(sm: SmApi, session: Session, active: boolean): void {
  const held = heldOf(session);
  if (!held) return;
  const stanzas = held.stanzas;
  held.stanzas = [];
  if (active) session.data.delete(STATE);
  for (const stanza of stanzas) sm.sendToSession(session, stanza);
}

/**
 * Offers `stanza` for an inactive session: true when it is held. Otherwise what was held is
 * written first, so the caller's delivery comes after it.
 */
function offer(sm: SmApi, session: Session, stanza: Element): boolean {
  const held = heldOf(session);
  if (!held) return false;
  if (!mayWait(stanza)) {
    flush(sm, session, false);
    return false;
  }
  if (stanza.is("presence")) {
    // The latest presence of each sender is all the client needs to see on waking.
    const from = stanza.attrs.from;
    held.stanzas = held.stanzas.filter((old) => !(old.is("presence") && old.attrs.from === from));
  }
  held.stanzas.push(stanza);
  if (held.stanzas.length > MAX_HELD) flush(sm, session, false);
  return true;
}

export const csi: SmFeature = {
  name: "csi",
  register(sm) {
    const { api } = sm;
    api.hook<NonzaEvent>(`nonza/${NS_CSI}:inactive`, ({ session }) => {
      if (!heldOf(session)) session.data.set(STATE, { stanzas: [] } satisfies Held);
      return true;
    });
    api.hook<NonzaEvent>(`nonza/${NS_CSI}:active`, ({ session }) => {
      flush(sm, session, true);
      return true;
    });

    // Before the core's delivery (priority -1), after carbons (10): held means handled.
    const toFull = ({ stanza, to }: StanzaEvent) => {
      const session = sm.sessions.get(to.toString());
      return session && offer(sm, session, stanza) ? true : undefined;
    };
    api.hook("message/full", toFull, 5);
    api.hook("presence/full", toFull, 5);

    // A contact's presence for the bare JID goes to every available resource (RFC 6121
    // §8.5.2.1.1), as the presence feature (priority 5) would send it, each one held or not.
    api.hook<StanzaEvent>("presence/bare", ({ stanza, to }) => {
      const type = stanza.attrs.type;
      if (type !== undefined && type !== "unavailable") return undefined;
      const sessions = sm.sessions.ofUser(to.bareString()).filter((s) => s.available);
      if (!sessions.some((session) => heldOf(session))) return undefined;
      for (const session of sessions) {
        if (!offer(sm, session, stanza)) sm.sendToSession(session, stanza);
      }
      return true;
    }, 7);
  },
};
