/**
 * Roster management (RFC 6121 §2) with roster versioning (XEP-0237): get, set (add or update),
 * remove with the subscription cancellations §2.5.2 requires, and pushes to interested
 * resources.
 *
 * Versioning: `ver` is a hash of the roster (roster_store.ts). A get whose `ver` equals the
 * current one is answered with an empty result (XEP-0237 §2.4: the client's cached copy is
 * right, and the pushes that follow keep it so); any other `ver` gets the whole roster with the
 * current version, never a replay of intermediate pushes, which would need a stored history.
 *
 * Roster sets follow §2.3.3: exactly one item, a valid JID, no duplicate groups (bad-request),
 * no empty group and no name or group longer than 1023 characters (not-acceptable). The
 * `subscription` attribute other than "remove", `ask` and `approved` are ignored (§2.1.2), as
 * clients such as old Psi versions send `subscription="none"`. Adding oneself is refused with
 * not-allowed: one roster item cannot hold both ends of a subscription.
 */
import { StanzaError } from "../../../../util/errors.ts";
import { bareOf } from "../../../../util/jid.ts";
import { NS_ROSTER } from "../../../../util/ns.ts";
import { type Element, xml } from "../../../../xml/element.ts";
import type { SmApi, SmFeature, StanzaEvent } from "../../types.ts";
import { sendUnavailableOf } from "./presence_broadcast.ts";
import { pushRosterItem } from "./push.ts";
import { itemElement, type RosterItem, rosterStoreOf, rosterVersion } from "./store.ts";

/** The longest name or group accepted (RFC 6121 §2.3.3 leaves the limit to the server). */
export const MAX_ROSTER_TEXT = 1023;

/** A roster set's item, checked (RFC 6121 §2.3.3); throws the StanzaError to answer with. */
export function readRosterSet(query: Element, owner: string): {
  jid: string;
  remove: boolean;
  name?: string;
  groups: string[];
} {
  const items = query.elements;
  if (items.length !== 1 || !items[0].is("item")) {
    throw new StanzaError("bad-request", "A roster set holds exactly one item");
  }
  const item = items[0];
  const jid = bareOf(item.attrs.jid);
  if (jid === undefined) throw new StanzaError("bad-request", "The item's JID is not valid");
  if (jid === owner) throw new StanzaError("not-allowed", "You cannot add yourself");
  const name = item.attrs.name || undefined;
  if (name !== undefined && name.length > MAX_ROSTER_TEXT) {
    throw new StanzaError("not-acceptable", "The item's name is too long");
  }
  const groups: string[] = [];
  for (const group of item.getChildren("group")) {
    const text = group.text();
    if (text === "") throw new StanzaError("not-acceptable", "A group name is empty");
    if (text.length > MAX_ROSTER_TEXT) {
      throw new StanzaError("not-acceptable", "A group name is too long");
    }
    if (groups.includes(text)) {
      throw new StanzaError("bad-request", `The group "${text}" is given twice`);
    }
    groups.push(text);
  }
  return { jid, remove: item.attrs.subscription === "remove", name, groups };
}

async function rosterGet(sm: SmApi, { stanza, origin }: StanzaEvent): Promise<void> {
  const owner = origin!.jid.bareString();
  const store = rosterStoreOf(sm);
  await store.exclusive(owner, async () => {
    const roster = await store.load(owner);
    // The initial presence that follows reads this view instead of the roster again.
    store.remember(owner, roster);
    const ver = await rosterVersion(roster);
    // Interested from now on (§2.1.6), also when the cached copy was current.
    origin!.interested = true;
    const asked = stanza.getChild("query", NS_ROSTER)?.attrs.ver;
    if (asked !== undefined && asked === ver) return sm.reply(stanza);
    const query = xml(
      "query",
      asked !== undefined ? { xmlns: NS_ROSTER, ver } : { xmlns: NS_ROSTER },
    );
    for (const item of roster.items.values()) query.append(itemElement(item));
    sm.reply(stanza, query);
  });
}

async function rosterSet(sm: SmApi, { stanza, origin }: StanzaEvent): Promise<void> {
  const owner = origin!.jid.bareString();
  const wanted = readRosterSet(stanza.getChild("query", NS_ROSTER)!, owner);
  const store = rosterStoreOf(sm);
  await store.exclusive(owner, async () => {
    const roster = await store.load(owner);
    const old = roster.items.get(wanted.jid);
    if (wanted.remove) {
      if (!old && !roster.pending.has(wanted.jid)) {
        throw new StanzaError("item-not-found", "That contact is not in your roster");
      }
      await removeContact(sm, owner, wanted.jid, old, roster.pending.has(wanted.jid));
      roster.items.delete(wanted.jid);
      roster.pending.delete(wanted.jid);
      const removed = itemElement(old ?? noneItem(wanted.jid), true);
      pushRosterItem(sm, owner, removed, await rosterVersion(roster));
      return sm.reply(stanza);
    }
    const item: RosterItem = {
      jid: wanted.jid,
      name: wanted.name,
      groups: wanted.groups,
      subscription: old?.subscription ?? "none",
      ask: old?.ask ?? false,
      approved: old?.approved ?? false,
    };
    await store.putItem(owner, item);
    roster.items.set(item.jid, item);
    pushRosterItem(sm, owner, itemElement(item), await rosterVersion(roster));
    sm.reply(stanza);
  });
}

function noneItem(jid: string): RosterItem {
  return { jid, subscription: "none", ask: false, approved: false, groups: [] };
}

/**
 * RFC 6121 §2.5.2: removing an item cancels both directions of the subscription. The contact
 * stops seeing the user (unavailable from each resource, then "unsubscribed", §3.2.2), the
 * user's own subscription or request is withdrawn ("unsubscribe"), and a pending request from
 * the contact is declined ("unsubscribed").
 */
async function removeContact(
  sm: SmApi,
  owner: string,
  jid: string,
  item: RosterItem | undefined,
  pendingIn: boolean,
): Promise<void> {
  const store = rosterStoreOf(sm);
  const subscription = item?.subscription ?? "none";
  const send = (type: string) => sm.route(xml("presence", { type, from: owner, to: jid }));
  if (subscription === "to" || subscription === "both" || item?.ask) send("unsubscribe");
  if (subscription === "from" || subscription === "both") {
    sendUnavailableOf(sm, owner, jid);
    send("unsubscribed");
  } else if (pendingIn) send("unsubscribed");
  if (pendingIn) await store.removePending(owner, jid);
  if (item) await store.removeItem(owner, jid);
}

// Self iq events always come from a local session (types.ts); the promise is the answer.
export const roster: SmFeature = {
  name: "roster",
  register(sm) {
    sm.api.hook<StanzaEvent>(`iq-get/self/${NS_ROSTER}:query`, (event) => rosterGet(sm, event));
    sm.api.hook<StanzaEvent>(`iq-set/self/${NS_ROSTER}:query`, (event) => rosterSet(sm, event));
  },
};
