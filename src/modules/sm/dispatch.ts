/**
 * Stanza dispatch (RFC 6120 §8.1, §10; RFC 6121 §8.5): what a local session sends goes through
 * the `pre-…` events, then into the tree or, for our own hosts, straight to the inbound events;
 * what arrives for our users and hosts fires the events of types.ts, and an iq get/set nobody
 * handles is answered `service-unavailable`.
 */
import { StanzaError } from "../../util/errors.ts";
import { JID } from "../../util/jid.ts";
import type { Element } from "../../xml/element.ts";
import { describe, type SessionManager } from "./session_manager.ts";
import type { Session, StanzaEvent } from "./types.ts";

/** The form of a destination address, as in the event names. */
export type AddressForm = "bare" | "full" | "host";

const STANZAS = new Set(["message", "presence", "iq"]);

export function formOf(jid: JID | undefined): AddressForm {
  if (!jid) return "bare";
  if (jid.local === "") return "host";
  return jid.isBare ? "bare" : "full";
}

/**
 * A stanza one of our sessions sent (the "stanza in" route): stamped with the session's full
 * JID (RFC 6120 §8.1.2.1), offered to `pre-…` hooks, then routed.
 */
export async function fromSession(
  sm: SessionManager,
  session: Session,
  received: Element,
): Promise<void> {
  if (!STANZAS.has(received.local)) {
    sm.api.log.debug(`Dropped a <${received.name}> from ${session.jid}: not a stanza`);
    return;
  }
  const full = session.jid.toString();
  // c2s stamps `from`; a packet is immutable once delivered, so a fix is made on a copy.
  const stanza = received.attrs.from === full ? received : received.clone();
  stanza.attrs.from = full;
  let to: JID | undefined;
  if (stanza.attrs.to !== undefined) {
    to = JID.tryParse(stanza.attrs.to);
    if (!to) {
      sm.replyError(stanza, new StanzaError("jid-malformed", "The to address is not a valid JID"));
      return;
    }
  }
  const event: StanzaEvent = { stanza, origin: session };
  if (await handled(sm, `pre-${stanza.local}/${formOf(to)}`, event, true)) return;
  if (!to || sm.isLocalHost(to.domain)) await inbound(sm, stanza, session);
  else sm.deliver(stanza);
}

/**
 * A stanza for one of our hosts or users, from the tree or from one of our sessions (`origin`):
 * fires `{name}/{form}` (and for iq get/set `iq-{type}/{host|self|bare}/{ns}:{local}`).
 */
export async function inbound(sm: SessionManager, stanza: Element, origin?: Session) {
  if (!STANZAS.has(stanza.local)) return;
  let target: JID | undefined;
  if (stanza.attrs.to !== undefined) {
    target = JID.tryParse(stanza.attrs.to);
    if (!target) {
      sm.replyError(stanza, new StanzaError("jid-malformed", "The to address is not a valid JID"));
      return;
    }
  } else if (origin) {
    // No `to` from a client: addressed to its own account (RFC 6120 §10.3).
    target = origin.jid.bare;
  } else {
    sm.api.log.debug(`Dropped a <${stanza.name}> without a to address`);
    return;
  }
  if (!sm.isLocalHost(target.domain)) {
    sm.deliver(stanza);
    return;
  }
  const form = formOf(target);
  const bare = target.bareString();
  const self = origin !== undefined && form === "bare" && origin.jid.bareString() === bare;
  try {
    if (form !== "host" && !self && sm.sessions.ofUser(bare).length === 0) {
      if (!(await sm.userExists(bare))) {
        // RFC 6121 §8.5.1: no such user. Presence is dropped; replyError never answers an error
        // or an iq result.
        if (stanza.local !== "presence") {
          sm.replyError(stanza, new StanzaError("service-unavailable"));
        }
        return;
      }
    }
    const event: StanzaEvent = origin ? { stanza, origin } : { stanza };
    if (stanza.local === "iq") await inboundIq(sm, stanza, form, self, event);
    else await handled(sm, `${stanza.local}/${form}`, event, false);
  } catch (error) {
    const reason = error instanceof StanzaError ? error : new StanzaError("internal-server-error");
    if (!(error instanceof StanzaError)) {
      sm.api.log.error(`Failed to handle a <${stanza.name}> to ${target}: ${describe(error)}`);
    }
    sm.replyError(stanza, reason);
  }
}

async function inboundIq(
  sm: SessionManager,
  iq: Element,
  form: AddressForm,
  self: boolean,
  event: StanzaEvent,
): Promise<void> {
  const type = iq.attrs.type;
  if (form === "full") {
    if (!(await handled(sm, "iq/full", event, false))) {
      sm.replyError(iq, new StanzaError("service-unavailable"));
    }
    return;
  }
  if (type === "get" || type === "set") {
    // RFC 6120 §8.2.3: a get or set holds exactly one payload element.
    const payloads = iq.elements;
    if (payloads.length !== 1) {
      sm.replyError(iq, new StanzaError("bad-request", "An iq get or set holds one element"));
      return;
    }
    const payload = payloads[0];
    const scope = self ? "self" : form;
    const name = `iq-${type}/${scope}/${payload.ns}:${payload.local}`;
    if (!(await handled(sm, name, event, false))) {
      sm.replyError(iq, new StanzaError("service-unavailable"));
    }
    return;
  }
  if ((type === "result" || type === "error") && form === "host") {
    await handled(sm, `iq-${type}/host/${iq.attrs.id ?? ""}`, event, false);
    return;
  }
  if (type !== "result" && type !== "error") {
    sm.replyError(iq, new StanzaError("bad-request", "An iq has type get, set, result or error"));
  }
  // A result or error for a bare JID has no one to go to: dropped (never answered).
}

/**
 * Fires an event; true when a hook took it. A hook's promise is awaited; for a `pre-…` event
 * (`falseGoesOn`) false, or a promise resolving to false, means "go on routing".
 */
async function handled(
  sm: SessionManager,
  name: string,
  event: StanzaEvent,
  falseGoesOn: boolean,
): Promise<boolean> {
  const result = sm.api.fire(name, event);
  if (result === undefined) return false;
  const value = result instanceof Promise ? await result : result;
  return !(falseGoesOn && value === false);
}
