/**
 * Stanza dispatch (RFC 6120 §8.1, §10; RFC 6121 §8.5): what a local session sends goes through
 * the `pre-…` events, then into the tree or, for our own hosts, straight to the inbound events;
 * what arrives for our users and hosts fires the events of types.ts, and an iq get/set nobody
 * handles is answered `service-unavailable`.
 *
 * Every step runs synchronously while the hooks answer synchronously, and returns a promise only
 * once some hook (or the account lookup) answers later: most stanzas then cost no promise at
 * all, and the router keeps no per-pair tail for them (GC was 15% of busy time).
 */
import { StanzaError } from "../../util/errors.ts";
import { JID } from "../../util/jid.ts";
import type { Element } from "../../xml/element.ts";
import { describe, type SessionManager } from "./session_manager.ts";
import type { Session, StanzaEvent } from "./types.ts";

/** The form of a destination address, as in the event names. */
export type AddressForm = "bare" | "full" | "host";

/** Nothing when the work is finished, a promise when some of it finishes later. */
export type Work = void | Promise<void>;

type StanzaName = "message" | "presence" | "iq";

/** Event names by stanza and form, built once instead of a template string per stanza. */
function eventNames(prefix: string): Record<StanzaName, Record<AddressForm, string>> {
  const names = {} as Record<StanzaName, Record<AddressForm, string>>;
  for (const stanza of ["message", "presence", "iq"] as const) {
    names[stanza] = {
      bare: `${prefix}${stanza}/bare`,
      full: `${prefix}${stanza}/full`,
      host: `${prefix}${stanza}/host`,
    };
  }
  return names;
}

const PRE_EVENTS = eventNames("pre-");
const EVENTS = eventNames("");

function isStanza(local: string): local is StanzaName {
  return local === "message" || local === "presence" || local === "iq";
}

export function formOf(jid: JID | undefined): AddressForm {
  if (!jid) return "bare";
  if (jid.local === "") return "host";
  return jid.isBare ? "bare" : "full";
}

/**
 * A stanza one of our sessions sent (the "stanza in" route): stamped with the session's full
 * JID (RFC 6120 §8.1.2.1), offered to `pre-…` hooks, then routed.
 */
export function fromSession(sm: SessionManager, session: Session, received: Element): Work {
  const local = received.local;
  if (!isStanza(local)) {
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
  const taken = handled(sm, PRE_EVENTS[local][formOf(to)], event, true);
  if (taken === false) return send(sm, stanza, to, session);
  if (taken !== true) {
    return taken.then((taken) => taken ? undefined : send(sm, stanza, to, session));
  }
}

/** A session's stanza no `pre-…` hook took: to our inbound events, or into the tree. */
function send(sm: SessionManager, stanza: Element, to: JID | undefined, session: Session): Work {
  if (!to || sm.isLocalHost(to.domain)) return inbound(sm, stanza, session);
  sm.deliver(stanza);
}

/**
 * A stanza for one of our hosts or users, from the tree or from one of our sessions (`origin`):
 * fires `{name}/{form}` (and for iq get/set `iq-{type}/{host|self|bare}/{ns}:{local}`).
 */
export function inbound(sm: SessionManager, stanza: Element, origin?: Session): Work {
  if (!isStanza(stanza.local)) return;
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
  // A hook's error, thrown now or later, is answered the same way.
  try {
    const work = toLocal(sm, stanza, target, origin);
    if (work) return work.catch((error) => failed(sm, stanza, target, error));
  } catch (error) {
    failed(sm, stanza, target, error);
  }
}

function failed(sm: SessionManager, stanza: Element, target: JID, error: unknown): void {
  const reason = error instanceof StanzaError ? error : new StanzaError("internal-server-error");
  if (!(error instanceof StanzaError)) {
    sm.api.log.error(`Failed to handle a <${stanza.name}> to ${target}: ${describe(error)}`);
  }
  sm.replyError(stanza, reason);
}

function toLocal(sm: SessionManager, stanza: Element, target: JID, origin?: Session): Work {
  const form = formOf(target);
  const bare = target.bareString();
  const self = origin !== undefined && form === "bare" && origin.jid.bareString() === bare;
  if (form !== "host" && !self && sm.sessions.ofUser(bare).length === 0) {
    return sm.userExists(bare).then((exists) => {
      if (exists) return fire(sm, stanza, form, self, origin);
      // RFC 6121 §8.5.1: no such user. Presence is dropped; replyError never answers an error
      // or an iq result.
      if (stanza.local !== "presence") {
        sm.replyError(stanza, new StanzaError("service-unavailable"));
      }
    });
  }
  return fire(sm, stanza, form, self, origin);
}

function fire(
  sm: SessionManager,
  stanza: Element,
  form: AddressForm,
  self: boolean,
  origin?: Session,
): Work {
  const event: StanzaEvent = origin ? { stanza, origin } : { stanza };
  if (stanza.local === "iq") return inboundIq(sm, stanza, form, self, event);
  const taken = handled(sm, EVENTS[stanza.local as StanzaName][form], event, false);
  if (typeof taken !== "boolean") return taken.then(ignore);
}

function inboundIq(
  sm: SessionManager,
  iq: Element,
  form: AddressForm,
  self: boolean,
  event: StanzaEvent,
): Work {
  const type = iq.attrs.type;
  if (form === "full") return answerUnlessHandled(sm, "iq/full", event);
  if (type === "get" || type === "set") {
    // RFC 6120 §8.2.3: a get or set holds exactly one payload element.
    const payloads = iq.elements;
    if (payloads.length !== 1) {
      sm.replyError(iq, new StanzaError("bad-request", "An iq get or set holds one element"));
      return;
    }
    const payload = payloads[0];
    const scope = self ? "self" : form;
    return answerUnlessHandled(sm, `iq-${type}/${scope}/${payload.ns}:${payload.local}`, event);
  }
  if ((type === "result" || type === "error") && form === "host") {
    const taken = handled(sm, `iq-${type}/host/${iq.attrs.id ?? ""}`, event, false);
    if (typeof taken !== "boolean") return taken.then(ignore);
    return;
  }
  if (type !== "result" && type !== "error") {
    sm.replyError(iq, new StanzaError("bad-request", "An iq has type get, set, result or error"));
  }
  // A result or error for a bare JID has no one to go to: dropped (never answered).
}

/** Fires an iq event; nobody taking it is answered service-unavailable. */
function answerUnlessHandled(sm: SessionManager, name: string, event: StanzaEvent): Work {
  const taken = handled(sm, name, event, false);
  if (taken === false) sm.replyError(event.stanza, new StanzaError("service-unavailable"));
  else if (taken !== true) {
    return taken.then((taken) => {
      if (!taken) sm.replyError(event.stanza, new StanzaError("service-unavailable"));
    });
  }
}

/**
 * Fires an event; true when a hook took it. A hook's promise makes the answer a promise; for a
 * `pre-…` event (`falseGoesOn`) false, or a promise resolving to false, means "go on routing".
 */
function handled(
  sm: SessionManager,
  name: string,
  event: StanzaEvent,
  falseGoesOn: boolean,
): boolean | Promise<boolean> {
  const result = sm.api.fire(name, event);
  if (result === undefined) return false;
  if (result instanceof Promise) {
    return result.then((value) => !(falseGoesOn && value === false));
  }
  return !(falseGoesOn && result === false);
}

function ignore(): void {}
