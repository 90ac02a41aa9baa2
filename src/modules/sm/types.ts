/**
 * The session manager's contract with its feature modules (RFC 6121; Prosody's event style):
 * sessions, the events fired for each stanza, and `SmApi`, the one object a feature gets.
 *
 * Event names (fired on the sm section with `api.fire`; hook them with `api.hook`). A hook
 * returns `true` when it handled the stanza, which stops the event (undefined = not mine):
 *
 * - `iq-get/host/{ns}:{local}`, `iq-set/host/{ns}:{local}`: an iq to one of our hosts
 *   (`urn:xmpp:ping:ping`, `jabber:iq:version:query`, …);
 * - `iq-get/self/{ns}:{local}`, `iq-set/self/{ns}:{local}`: an iq from a local session to its own
 *   bare JID or with no `to` (roster, vCard of oneself, private XML, blocking, carbons, …);
 * - `iq-get/bare/{ns}:{local}`, `iq-set/bare/{ns}:{local}`: an iq to a local user's bare JID
 *   from anyone else (someone's vCard);
 * - `iq/full`: an iq to a local full JID (the core's default delivers it to that session);
 * - `message/bare`, `message/full`, `message/host`, `presence/bare`, `presence/full`,
 *   `presence/host`: a stanza arriving for one of our users or hosts, whoever sent it. The core's
 *   default handlers (priority -1) deliver messages (RFC 6121 §8.5) and full-JID presence;
 * - `pre-message/bare`, `pre-message/full`, `pre-message/host`, `pre-presence/bare`,
 *   `pre-presence/full`, `pre-presence/host`, `pre-iq/bare`, `pre-iq/full`, `pre-iq/host`
 *   (`OutboundEvent`): a stanza a local session sends, before it is routed (carbons, blocking,
 *   outbound presence);
 * - `resource-bind` ({ session }), `resource-unbind` ({ session, reason }): session lifecycle;
 *   `resource-unbind` fires while the session is still in the registry (so the presence feature
 *   can send unavailable for it), and the core forgets it right after;
 * - `session-available` ({ session }): fired by the presence feature once a session's available
 *   presence has been handled (its `available`, `priority` and `presence` updated): at least on
 *   initial presence, possibly on every update. Offline delivery (XEP-0160) hooks it and sends
 *   the stored messages the first time the session's priority is non-negative;
 * - `message/offline` (StanzaEvent): a normal or chat message for a local user with no available
 *   non-negative resource (RFC 6121 §8.5.2.2.1); offline storage hooks it. Unhandled, the sender
 *   gets `service-unavailable`;
 * - `message/offline-stored` (StanzaEvent): fired by offline storage once such a message is
 *   stored (XEP-0357 push notifications hook it); every hook runs, none answers;
 * - `iq-result/host/{id}`, `iq-error/host/{id}`, `iq-result/bare/{id}`, `iq-error/bare/{id}`:
 *   the answer to an iq one of our hosts or users' bare JIDs sent (unhandled ones are dropped);
 * - `user-created` ({ jid }), `user-deleted` ({ jid }): account lifecycle;
 * - `private-stored` ({ owner, elements }): fired by private XML (XEP-0049) after a client's
 *   store, awaited before the reply (the XEP-0411 bookmarks bridge hooks it);
 * - `vcard-stored` ({ owner, vcard }): fired by the vcard feature after a client stored its
 *   vCard, awaited before the reply; `vcard-set` ({ owner, vcard }): another feature stores a
 *   user's vCard through the vcard feature (photo hash kept right), without `vcard-stored`;
 * - `pep-published` ({ owner, node, item }): fired by PEP after a client's publish, awaited
 *   before the reply; `pep-publish` ({ owner, node, item, options? }): another feature publishes
 *   to a user's node (options only when creating it), without `pep-published`; `pep-items`
 *   ({ owner, node }): the fire answers a promise of the node's items, oldest first. XEP-0398
 *   conversion (avatar_conversion.ts) uses them, so a conversion never converts back;
 * - `nonza/{ns}:{local}` ({ session, element }): an element other than a stanza that c2s passed
 *   on from a session's stream (XEP-0352 `<active/>` and `<inactive/>`); unhandled, it is dropped.
 *
 * A stanza a local session sends without `to` fires `pre-{name}/bare` with `to` still absent (a
 * presence without `to` is a broadcast, RFC 6121 §4.2.2); an iq without `to` or to the sender's
 * own bare JID fires `iq-{type}/self/…`, a message without `to` goes to the sender's bare JID.
 * `message/…`, `presence/…` and `iq…` events fire only for users that exist: for an unknown
 * user the core answers messages and iq get/set with `service-unavailable` and drops presence
 * (RFC 6121 §8.5.1). A presence of a subscription type or a probe to a full JID fires
 * `presence/bare` too when no hook of `presence/full` takes it (RFC 6121 §8.5.3.1, §8.5.3.2.1),
 * so use the bare JID of `to` there.
 *
 * Async work: a hook that reads or writes storage before the stanza's fate is decided returns
 * the promise of all of that work. The core awaits it before the next stanza of the same
 * sender→recipient pair (RFC 6120 §10.1, ROUTING.md R23 and R34), so what is answered after a
 * stanza is answered after that stanza was handled (stored, delivered). Any value other than
 * undefined (a promise included) means handled; only for `pre-…` events does a promise that
 * resolves to `false` let routing go on. A hook that throws or rejects with a `StanzaError` is
 * answered with that error; anything else thrown is logged and answered `internal-server-error`
 * (the dispatcher is the one place that does this: features never write error replies for their
 * own failures). An iq get/set that no hook handles is answered `service-unavailable`; nothing
 * is ever answered with an error when it is itself an error or an iq result.
 */
import type { ModuleApi, ValidationContext } from "../../server/module_api.ts";
import type { StanzaError } from "../../util/errors.ts";
import type { JID } from "../../util/jid.ts";
import type { Element } from "../../xml/element.ts";

/** One client session (one bound resource) as the session manager knows it. */
export interface Session {
  /** The full JID, normalized. */
  readonly jid: JID;
  /** Where its stanzas go: the c2s route address `c2s-id/connection-id`. */
  readonly route: string;
  /** When it was opened (ms since the epoch). */
  readonly started: number;
  /** True once it sent initial presence (RFC 6121 §4.2) and until unavailable. */
  available: boolean;
  /** The priority of its last available presence (RFC 6121 §4.7.2.3), 0 before any. */
  priority: number;
  /** Its last available presence as broadcast, for probes and new sessions. */
  presence: Element | undefined;
  /** True once it requested the roster (RFC 6121 §2.1.6: only those get roster pushes). */
  interested: boolean;
  /** State features keep per session, by feature name (carbons: enabled, …). */
  readonly data: Map<string, unknown>;
}

/** The live sessions of this session manager. */
export interface SessionRegistry {
  /** The session of a full JID string, normalized. */
  get(full: string): Session | undefined;
  /** Every session of a bare JID string (a snapshot: later logins make a new list). */
  ofUser(bare: string): readonly Session[];
  all(): IterableIterator<Session>;
  /** How many are open (for stats). */
  readonly size: number;
}

/** What an event about a stanza for one of our hosts or users carries. */
export interface StanzaEvent {
  readonly stanza: Element;
  /**
   * The address it is for, parsed once by the dispatcher: its `to`, or, for a stanza a local
   * session sent without `to`, that session's bare JID (RFC 6120 §10.3).
   */
  readonly to: JID;
  /** Its `from`, parsed: undefined when absent or not a valid JID. */
  readonly from: JID | undefined;
  /** The local session that sent it, when it came from one of our own clients. */
  readonly origin?: Session;
}

/** What a `pre-…` event carries: a stanza a local session sends, before it is routed. */
export interface OutboundEvent {
  readonly stanza: Element;
  /** Its `to`, parsed; undefined when the session sent it without one. */
  readonly to: JID | undefined;
  /** The sending session's full JID (the stanza's `from`, stamped by the core). */
  readonly from: JID;
  readonly origin: Session;
}

export interface SessionEvent {
  session: Session;
  /** Why it ended (`resource-unbind`): "closed", "replaced", "error" … */
  reason?: string;
}

export interface UserEvent {
  jid: JID;
}

/** The one object a session manager feature gets. */
export interface SmApi {
  /** The sm section's module API: xdb, log, timer, hook, fire, options. */
  readonly api: ModuleApi;
  readonly sessions: SessionRegistry;
  /** True when the JID (any form) is one of the admins of `<admin>` in the config. */
  isAdmin(jid: JID | string): boolean;
  /** Writes a stanza to one session, as is (wrapped in a route to its connection). */
  sendToSession(session: Session, stanza: Element): void;
  /**
   * Sends a stanza on its way as if the server sent it: to a local address it is processed as
   * arriving (events above), in the order `route()` was called for that recipient; elsewhere it
   * goes into the tree.
   */
  route(stanza: Element): void;
  /** Answers an iq with a result carrying `payload` (if any). */
  reply(iq: Element, payload?: Element): void;
  /** Answers a stanza with an error, unless it is an error or an iq result. */
  replyError(stanza: Element, error: StanzaError): void;
  /** True when the bare JID is an account of ours (it has credentials). */
  userExists(bare: string): Promise<boolean>;
  /**
   * Ends a session from the server side (account deleted, admin kick): fires `resource-unbind`
   * with `reason`, forgets it, and tells c2s with `<route type="error">` carrying `error`
   * (default `undefined-condition`, mapped by c2s to the stream error of that name).
   */
  endSession(session: Session, reason: string, error?: StanzaError): void;
}

/** A feature of the session manager: one small file, one job. */
export interface SmFeature {
  /** Its name, as `<disable>name</disable>` in the sm config switches it off. */
  readonly name: string;
  /** The `<sm>` child elements it reads (`<ping>`), which `check` then accepts. */
  readonly settings?: readonly string[];
  /** Checks one of its settings' elements; problems go to `check` with their positions. */
  validate?(setting: Element, context: ValidationContext): void;
  register(sm: SmApi): void | Promise<void>;
}
