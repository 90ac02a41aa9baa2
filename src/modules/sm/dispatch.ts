/**
 * Stanza dispatch (RFC 6120 §8.1, §10; RFC 6121 §8.5): what a local session sends goes through
 * the `pre-…` events, then into the tree or, for our own hosts, straight to the inbound events;
 * what arrives for our users and hosts fires the events of types.ts, and an iq get/set nobody
 * handles is answered `service-unavailable`. This is the one place where a hook's failure
 * becomes an error reply: a `StanzaError` as itself, anything else as `internal-server-error`.
 *
 * Every step runs synchronously while the hooks answer synchronously, and returns a promise only
 * once some hook (or the account lookup) answers later: most stanzas then cost no promise at
 * all, and the router keeps no per-pair tail for them (GC was 15% of busy time).
 */
import { describe, StanzaError } from "../../util/errors.ts";
import { JID } from "../../util/jid.ts";
import type { Element } from "../../xml/element.ts";
import { bareText, fullOf } from "./sessions.ts";
import type { OutboundEvent, Session, SmApi, StanzaEvent } from "./types.ts";

/** The form of a destination address, as in the event names. */
export type AddressForm = "bare" | "full" | "host";

/** Nothing when the work is finished, a promise when some of it finishes later. */
export type Work = void | Promise<void>;

/**
 * What dispatch needs of the session manager: its SmApi, and sending into the tree as caused
 * by the packet being handled (session_manager.ts implements it; no import, no cycle).
 */
export interface SessionCore extends SmApi {
  deliver(element: Element): void;
  /** In a farm: sends a stanza for a user with no session here to its home (farm_homes.ts). */
  readonly homes?: { forwardAway(stanza: Element, bare: string): boolean };
}

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
export function fromSession(sm: SessionCore, session: Session, received: Element): Work {
  const local = received.local;
  if (!isStanza(local)) {
    // A nonza c2s passed on (XEP-0352 <active/>, <inactive/>): `nonza/{ns}:{local}` (types.ts).
    const nonza = { session, element: received };
    if (sm.api.fire(`nonza/${received.ns}:${local}`, nonza) === undefined) {
      sm.api.log.debug(`Dropped a <${received.name}> from ${session.jid}: not a stanza`);
    }
    return;
  }
  // Made once per session: text built per stanza would also be hashed again by every lookup.
  const full = fullOf(session);
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
  const event: OutboundEvent = { stanza, to, from: session.jid, origin: session };
  // No closure per stanza: a failure of the hooks is answered by `failed`, now or later.
  let work: Work = undefined;
  try {
    const taken = handled(sm, PRE_EVENTS[local][formOf(to)], event, true);
    if (taken === false) work = send(sm, event);
    else if (taken !== true) {
      work = taken.then((taken) => taken ? undefined : send(sm, event));
    }
  } catch (error) {
    failed(sm, stanza, error);
    return;
  }
  if (work) return work.catch((error) => failed(sm, stanza, error));
}

/** A session's stanza no `pre-…` hook took: to our inbound events, or into the tree. */
function send(sm: SessionCore, event: OutboundEvent): Work {
  const { stanza, to, origin } = event;
  // No `to` from a client: addressed to its own account (RFC 6120 §10.3).
  if (!to) return inbound(sm, stanza, origin.jid.bare, origin);
  // The outbound event has every field of the inbound one (`from` is the origin's JID), so it
  // is handed on as it is: one event object per message, not two.
  if (sm.api.servesHost(to.domain)) return dispatchLocal(sm, event as StanzaEvent);
  sm.deliver(stanza);
}

/**
 * A stanza for one of our hosts or users (the tree decided so, or `send` did), from the tree or
 * from one of our sessions (`origin`): fires `{name}/{form}` (and for iq get/set
 * `iq-{type}/{host|self|bare}/{ns}:{local}`). `to` is the stanza's parsed `to`, undefined when
 * the caller has not parsed it yet.
 */
export function inbound(sm: SessionCore, stanza: Element, to?: JID, origin?: Session): Work {
  if (!isStanza(stanza.local)) return;
  let target = to;
  if (!target) {
    if (stanza.attrs.to === undefined) {
      sm.api.log.debug(`Dropped a <${stanza.name}> without a to address`);
      return;
    }
    target = JID.tryParse(stanza.attrs.to);
    if (!target) {
      sm.replyError(stanza, new StanzaError("jid-malformed", "The to address is not a valid JID"));
      return;
    }
  }
  const from = origin ? origin.jid : parseFrom(stanza);
  const event: StanzaEvent = origin
    ? { stanza, to: target, from, origin }
    : { stanza, to: target, from };
  return dispatchLocal(sm, event);
}

/** Fires the inbound events of a stanza for our hosts or users; failures answered by `failed`. */
function dispatchLocal(sm: SessionCore, event: StanzaEvent): Work {
  let work: Work;
  try {
    work = toLocal(sm, event);
  } catch (error) {
    failed(sm, event.stanza, error);
    return;
  }
  if (work) return work.catch((error) => failed(sm, event.stanza, error));
}

function parseFrom(stanza: Element): JID | undefined {
  const from = stanza.attrs.from;
  return from === undefined ? undefined : JID.tryParse(from);
}

/**
 * Answers a failure of the hooks, thrown now or later: a `StanzaError` as that error, any other
 * failure (a bug) logged and answered `internal-server-error`. The one place that does so.
 */
function failed(sm: SessionCore, stanza: Element, error: unknown): void {
  if (error instanceof StanzaError) return sm.replyError(stanza, error);
  const to = stanza.attrs.to ?? "(no to)";
  sm.api.log.error(`Failed to handle a <${stanza.name}> to ${to}: ${describe(error)}`);
  sm.replyError(stanza, new StanzaError("internal-server-error"));
}

function toLocal(sm: SessionCore, event: StanzaEvent): Work {
  const { to, origin, stanza } = event;
  const form = formOf(to);
  const bare = bareText(to);
  const self = origin !== undefined && form === "bare" && bareText(origin.jid) === bare;
  if (form !== "host" && !self && sm.sessions.ofUser(bare).length === 0) {
    // In a farm the user's sessions may live on another node (ROUTING.md R42).
    if (sm.homes?.forwardAway(stanza, bare)) return;
    return sm.userExists(bare).then((exists) => {
      if (exists) return fire(sm, event, form, self);
      // RFC 6121 §8.5.1: no such user. Presence is dropped; replyError never answers an error
      // or an iq result.
      if (stanza.local !== "presence") {
        sm.replyError(stanza, new StanzaError("service-unavailable"));
      }
    });
  }
  return fire(sm, event, form, self);
}

function fire(sm: SessionCore, event: StanzaEvent, form: AddressForm, self: boolean): Work {
  const { stanza } = event;
  if (stanza.local === "iq") return inboundIq(sm, event, form, self);
  const taken = handled(sm, EVENTS[stanza.local as StanzaName][form], event, false);
  if (typeof taken !== "boolean") return taken.then(ignore);
}

function inboundIq(sm: SessionCore, event: StanzaEvent, form: AddressForm, self: boolean): Work {
  const iq = event.stanza;
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
  if ((type === "result" || type === "error") && (form === "host" || form === "bare")) {
    // The answer to an iq a host or an account sent (an XEP-0357 push is sent from the account).
    const taken = handled(sm, `iq-${type}/${form}/${iq.attrs.id ?? ""}`, event, false);
    if (typeof taken !== "boolean") return taken.then(ignore);
    return;
  }
  if (type !== "result" && type !== "error") {
    sm.replyError(iq, new StanzaError("bad-request", "An iq has type get, set, result or error"));
  }
  // A result or error nobody took has no one to go to: dropped (never answered).
}

/** Fires an iq event; nobody taking it is answered service-unavailable. */
function answerUnlessHandled(sm: SessionCore, name: string, event: StanzaEvent): Work {
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
  sm: SessionCore,
  name: string,
  event: StanzaEvent | OutboundEvent,
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
