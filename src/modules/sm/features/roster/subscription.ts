/**
 * Presence subscriptions (RFC 6121 §3): the server rules for subscribe, subscribed, unsubscribe
 * and unsubscribed sent by a local user (outbound, A.2) or arriving for one (inbound, A.3), from
 * a local or a remote contact, with pre-approval (§3.4). The state tables are in
 * subscription_states.ts; this file stores the outcome, pushes it and routes the stanzas.
 *
 * - Outbound: the stanza is stamped with the user's bare JID (§3.1.2) and a bare `to`, the
 *   user's roster item changes and is pushed, then the stanza is routed (`SmApi.route`: a local
 *   contact gets it as inbound, a remote one through the tree).
 * - Inbound: a request the table delivers is kept as pending (`<pending>` in the roster's
 *   namespace) and delivered to the available resources; with none available it waits and the
 *   presence feature delivers it on the next initial presence (§3.1.3). A subscribe to an
 *   account that does not exist is answered "unsubscribed", so the requester stops waiting.
 * - Pre-approval: a "subscribed" the table does not route becomes `approved="true"` on the item
 *   (§3.4.1); a later request is then answered by the server. c2s should advertise the stream
 *   feature `<sub xmlns="urn:xmpp:features:pre-approval"/>`.
 */
import type { JID } from "../../../../util/jid.ts";
import type { Element } from "../../../../xml/element.ts";
import { xml } from "../../../../xml/element.ts";
import type { OutboundEvent, SmApi, SmFeature, StanzaEvent } from "../../types.ts";
import {
  deliverToAvailable,
  readdressed,
  sendPresenceOf,
  sendUnavailableOf,
} from "./presence_broadcast.ts";
import { pushRosterItem } from "./push.ts";
import {
  itemElement,
  type Roster,
  rosterStoreOf,
  rosterVersion,
  stateOfContact,
  withState,
} from "./store.ts";
import {
  contactSeesUser,
  decideInbound,
  decideOutbound,
  type StateName,
  stateOf,
  SUBSCRIPTION_TYPES,
  type SubscriptionType,
} from "./subscription_states.ts";

export function isSubscriptionType(type: string | undefined): type is SubscriptionType {
  return SUBSCRIPTION_TYPES.includes(type as SubscriptionType);
}

/**
 * Stores the new state of `jid` in `owner`'s roster and pushes the item when it changed. A
 * contact that is only "None" (not approved, nothing pending out) gets no item created.
 * `request` is the subscribe stanza to keep when the state becomes pending in.
 */
async function persist(
  sm: SmApi,
  owner: string,
  roster: Roster,
  jid: string,
  next: StateName,
  approved: boolean,
  request?: Element,
): Promise<void> {
  const store = rosterStoreOf(sm);
  const old = roster.items.get(jid);
  const item = withState(old, jid, next, approved);
  const changed = old
    ? old.subscription !== item.subscription || old.ask !== item.ask ||
      old.approved !== item.approved
    : item.subscription !== "none" || item.ask || item.approved;
  const pendingIn = stateOf(next).pendingIn;
  if (pendingIn && !roster.pending.has(jid) && request) {
    await store.putPending(owner, jid, request);
    roster.pending.set(jid, request);
  } else if (!pendingIn && roster.pending.has(jid)) {
    await store.removePending(owner, jid);
    roster.pending.delete(jid);
  }
  if (!changed) return;
  await store.putItem(owner, item);
  roster.items.set(jid, item);
  pushRosterItem(sm, owner, itemElement(item), await rosterVersion(roster));
}

/** A local user sends a subscription stanza (RFC 6121 §3.1.2, §3.2.2, §3.3.2, §3.4.1). */
async function outbound(sm: SmApi, { stanza, origin }: OutboundEvent, to: JID): Promise<void> {
  const type = stanza.attrs.type as SubscriptionType;
  const user = origin.jid.bareString();
  const contact = to.bareString();
  // Not to oneself: one roster item cannot hold both ends of a subscription.
  if (contact === user) return;
  const store = rosterStoreOf(sm);
  await store.exclusive(user, async () => {
    const roster = await store.load(user);
    const state = stateOfContact(roster, contact);
    const decision = decideOutbound(type, state, roster.items.get(contact)?.approved ?? false);
    await persist(sm, user, roster, contact, decision.next, decision.approved);
    if (!decision.route) return;
    if (type === "unsubscribed" && contactSeesUser(state)) sendUnavailableOf(sm, user, contact);
    sm.route(readdressed(stanza, user, contact));
    // The contact now sees the user: it gets the user's current presence (§3.1.5).
    if (type === "subscribed") sendPresenceOf(sm, user, contact);
  });
}

/** A subscription stanza arrives for a local user (RFC 6121 §3.1.3, 3.1.6, 3.2.3, 3.3.3). */
async function inbound(sm: SmApi, { stanza, to, from }: StanzaEvent): Promise<void> {
  const type = stanza.attrs.type as SubscriptionType;
  const user = to.bareString();
  const contact = from?.bareString();
  if (contact === undefined || contact === user) return;
  const reply = (answer: string) =>
    sm.route(xml("presence", { type: answer, from: user, to: contact }));
  const store = rosterStoreOf(sm);
  await store.exclusive(user, async () => {
    if (!(await sm.userExists(user))) {
      if (type === "subscribe") reply("unsubscribed");
      return;
    }
    const roster = await store.load(user);
    const state = stateOfContact(roster, contact);
    const decision = decideInbound(type, state, roster.items.get(contact)?.approved ?? false);
    // Delivered as addressed to the bare JID, from the contact's bare JID (§3.1.3).
    const delivered = readdressed(stanza, contact, user);
    await persist(sm, user, roster, contact, decision.next, decision.approved, delivered);
    if (decision.autoReply) {
      reply("subscribed");
      sendPresenceOf(sm, user, contact);
      return;
    }
    if (!decision.route) return;
    if (type === "unsubscribe" && contactSeesUser(state)) sendUnavailableOf(sm, user, contact);
    deliverToAvailable(sm, user, delivered);
  });
}

export const subscription: SmFeature = {
  name: "subscription",
  register(sm) {
    // Outbound: whatever the form of `to` (a full JID is treated as bare, §3.1.2).
    for (const kind of ["bare", "full", "host"]) {
      sm.api.hook<OutboundEvent>(`pre-presence/${kind}`, (event) => {
        if (!event.to || !isSubscriptionType(event.stanza.attrs.type)) return undefined;
        return outbound(sm, event, event.to);
      }, 10);
    }
    // Inbound: the core fires presence/bare for a full JID too (RFC 6121 §8.5.3.1): treated as
    // sent to the bare JID.
    sm.api.hook<StanzaEvent>("presence/bare", (event) => {
      if (!isSubscriptionType(event.stanza.attrs.type) || event.to.local === "") return undefined;
      return inbound(sm, event);
    }, 10);
  },
};
