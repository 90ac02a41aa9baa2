/**
 * What presence needs of a roster (RFC 6121 §4): per contact, whether the contact may see the
 * user's presence (subscription from/both: broadcasts go there, its probes are answered, §4.3.2)
 * and whether the user may see the contact's (to/both: it gets a probe, §4.2.2), and which
 * contacts wait for an answer to a subscription request (pending in, delivered again on initial
 * presence, §3.1.3). Names, groups, `ask` and `approved` are left out: the roster and
 * subscription features read the whole roster from XDB when they need them.
 *
 * Compact on purpose (docs/runtime-notes.md "Memory per session"): the session manager keeps one
 * per online user for as long as the user has sessions, so a login's 50 presence probes to
 * online contacts read a bit instead of each contact's whole roster. Contacts are a sorted array
 * of bare JIDs with a parallel array of small integers (two arrays of 50 slots instead of a Map's
 * hash table and an object per item), and the JID strings are the ones `bareText` shares.
 */
import { JID } from "../../../../util/jid.ts";
import { bareText } from "../../sessions.ts";
import type { Roster, RosterItem } from "./store.ts";
import type { Subscription } from "./subscription_states.ts";

/** The contact may see the user's presence (subscription from or both). */
const SEES_USER = 1;
/** The user may see the contact's presence (subscription to or both). */
const USER_SEES = 2;

const BITS: Record<Subscription, number> = {
  none: 0,
  to: USER_SEES,
  from: SEES_USER,
  both: SEES_USER | USER_SEES,
};

const NONE: readonly string[] = Object.freeze([]);

/** One shared string per address: the bare JID as `bareText` gives it for the parsed JID. */
function shared(jid: string): string {
  const parsed = JID.tryParse(jid);
  return parsed ? bareText(parsed) : jid;
}

/** Binary search in a sorted array: the index of `key`, or -(insertion point) - 1. */
function search(sorted: readonly string[], key: string): number {
  let low = 0;
  let high = sorted.length - 1;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    const at = sorted[mid];
    if (at < key) low = mid + 1;
    else if (at > key) high = mid - 1;
    else return mid;
  }
  return -low - 1;
}

/** The presence side of one user's roster. */
export class PresenceView {
  /** Contacts with a subscription other than none, sorted. */
  #jids: string[] = [];
  /** SEES_USER | USER_SEES of each contact in `#jids`. */
  #bits: number[] = [];
  /** Contacts with a pending inbound request, usually none (then a shared empty array). */
  #pending: readonly string[] = NONE;

  /** The view of a roster read from XDB. */
  static of(roster: Roster): PresenceView {
    const view = new PresenceView();
    const contacts: [string, number][] = [];
    for (const item of roster.items.values()) {
      const bits = BITS[item.subscription];
      if (bits !== 0) contacts.push([shared(item.jid), bits]);
    }
    contacts.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    view.#jids = contacts.map((contact) => contact[0]);
    view.#bits = contacts.map((contact) => contact[1]);
    if (roster.pending.size > 0) view.#pending = [...roster.pending.keys()].map(shared);
    return view;
  }

  /** Whether `jid` (a bare JID) may see the user's presence: its probes are answered. */
  seenBy(jid: string): boolean {
    const at = search(this.#jids, jid);
    return at >= 0 && (this.#bits[at] & SEES_USER) !== 0;
  }

  /** The contacts that may see the user's presence: broadcasts go to them. */
  subscribers(): string[] {
    return this.#select(SEES_USER);
  }

  /** The contacts whose presence the user may see: they get probes on initial presence. */
  publishers(): string[] {
    return this.#select(USER_SEES);
  }

  /** Whether any contact waits for an answer to a subscription request. */
  get hasPending(): boolean {
    return this.#pending.length > 0;
  }

  /** Follows a stored item (a roster push or a subscription change). */
  setItem(item: RosterItem): void {
    const bits = BITS[item.subscription];
    const at = search(this.#jids, item.jid);
    if (at >= 0) {
      if (bits === 0) {
        this.#jids.splice(at, 1);
        this.#bits.splice(at, 1);
      } else this.#bits[at] = bits;
    } else if (bits !== 0) {
      this.#jids.splice(-at - 1, 0, shared(item.jid));
      this.#bits.splice(-at - 1, 0, bits);
    }
  }

  /** Follows a removed item. */
  removeItem(jid: string): void {
    const at = search(this.#jids, jid);
    if (at < 0) return;
    this.#jids.splice(at, 1);
    this.#bits.splice(at, 1);
  }

  /** Follows a stored or removed pending inbound request. */
  setPending(jid: string, pending: boolean): void {
    const rest = this.#pending.filter((other) => other !== jid);
    if (pending) rest.push(shared(jid));
    this.#pending = rest.length === 0 ? NONE : rest;
  }

  #select(bit: number): string[] {
    const selected: string[] = [];
    for (let i = 0; i < this.#jids.length; i++) {
      if ((this.#bits[i] & bit) !== 0) selected.push(this.#jids[i]);
    }
    return selected;
  }
}
