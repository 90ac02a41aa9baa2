/**
 * XEP-0280 Message Carbons: a session enables or disables carbons (§4–5); eligible messages
 * (§6) arriving for a user are copied, wrapped in `<received><forwarded>`, to the user's other
 * carbons-enabled resources, and messages a session sends are copied in `<sent>` to its user's
 * other carbons-enabled resources. For a bare-JID message, the resources the core delivers to
 * (the highest non-negative priority, RFC 6121 §8.5.2.1.1) get no copy. Each `sent` copy is
 * offered to `CARBON_SENT` hooks first, so that the archive adds the stanza-id it stored the
 * message under (XEP-0313 §5.3: copies and archive agree).
 */
import { NS_CARBONS, NS_CLIENT, NS_FORWARD, NS_HINTS } from "../../../util/ns.ts";
import { type Element, xml } from "../../../xml/element.ts";
import type { OutboundEvent, Session, SmFeature, StanzaEvent } from "../types.ts";
import { bareText, fullText } from "../sessions.ts";
import { advertise } from "./advertise.ts";

const ENABLED = "carbons";
/** Fired with `{ original, copy }` for every `sent` copy; a hook may add to `copy`. */
export const CARBON_SENT = "carbons/sent-copy";
const IM_PAYLOADS = [
  "urn:xmpp:receipts",
  "http://jabber.org/protocol/chatstates",
  "urn:xmpp:chat-markers:0",
];

/** §6: chat, or normal with a body or an IM payload; not private, no-copy, or a carbon itself. */
export function eligible(message: Element): boolean {
  const type = message.attrs.type ?? "normal";
  if (message.getChild("private", NS_CARBONS) || message.getChild("no-copy", NS_HINTS)) {
    return false;
  }
  if (message.getChild("received", NS_CARBONS) || message.getChild("sent", NS_CARBONS)) {
    return false;
  }
  if (type === "chat") return true;
  if (type !== "normal") return false;
  return message.getChild("body") !== undefined ||
    IM_PAYLOADS.some((ns) => message.getChildByNs(ns));
}

/** True when one of `sessions` has carbons enabled: the only ones that get copies. */
function anyEnabled(sessions: readonly Session[]): boolean {
  for (const session of sessions) if (session.data.get(ENABLED)) return true;
  return false;
}

export const carbons: SmFeature = {
  name: "carbons",
  register(sm) {
    const { api } = sm;
    advertise(sm, "bare", NS_CARBONS);
    advertise(sm, "host", NS_CARBONS);
    for (const command of ["enable", "disable"]) {
      api.hook<StanzaEvent>(`iq-set/self/${NS_CARBONS}:${command}`, ({ stanza, origin }) => {
        origin!.data.set(ENABLED, command === "enable");
        sm.reply(stanza);
        return true;
      });
    }
    const copy = (to: readonly Session[], direction: "received" | "sent", message: Element) => {
      for (const session of to) {
        if (!session.data.get(ENABLED)) continue;
        // XEP-0297 §3: the forwarded stanza is a jabber:client one, declared as such; without
        // the declaration it would take the forward namespace of its parent on the wire.
        const inner = message.clone();
        inner.attrs.xmlns = NS_CLIENT;
        if (direction === "sent") api.fire(CARBON_SENT, { original: message, copy: inner });
        const forwarded = xml("forwarded", { xmlns: NS_FORWARD }, inner);
        const wrapper = xml(direction, { xmlns: NS_CARBONS }, forwarded);
        const carbon = xml("message", {
          from: session.jid.bareString(),
          type: message.attrs.type ?? "normal",
        });
        carbon.attrs.to = session.jid.toString();
        sm.sendToSession(session, carbon.append(wrapper));
      }
    };
    // Before the core's delivery (priority -1); returns undefined so delivery goes on.
    // Who could get a copy is checked first: with one session per user (the common case) no
    // message is scanned (eligible() looks for four children) and no array is made.
    api.hook<StanzaEvent>("message/full", ({ stanza, to }) => {
      const sessions = sm.sessions.ofUser(bareText(to));
      if (sessions.length < 2 || !anyEnabled(sessions)) return;
      const original = sm.sessions.get(fullText(to));
      if (!original) return; // offline or unknown: no original, no carbon
      if (!eligible(stanza)) return;
      copy(sessions.filter((s) => s !== original), "received", stanza);
    }, 10);
    api.hook<StanzaEvent>("message/bare", ({ stanza, to }) => {
      const sessions = sm.sessions.ofUser(bareText(to));
      if (sessions.length < 2 || !anyEnabled(sessions) || !eligible(stanza)) return;
      const best = Math.max(-1, ...sessions.filter((s) => s.available).map((s) => s.priority));
      if (best < 0) return;
      copy(sessions.filter((s) => !s.available || s.priority !== best), "received", stanza);
    }, 10);
    const sent = ({ stanza, origin }: OutboundEvent) => {
      const mine = sm.sessions.ofUser(bareText(origin.jid));
      if (mine.length < 2 || !anyEnabled(mine) || !eligible(stanza)) return;
      const others = mine.filter((s) => s !== origin);
      copy(others, "sent", stanza);
    };
    for (const kind of ["bare", "full", "host"]) api.hook(`pre-message/${kind}`, sent, 10);
  },
};
