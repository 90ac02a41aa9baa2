/**
 * Rosters in XDB (RFC 6121 §2; XEP-0237 versions): reading and writing one user's roster items
 * and pending inbound subscription requests, one child per contact, with the per-user lock that
 * keeps roster, subscription and presence work of one user in order. Shared by the features of
 * this folder only.
 *
 * Storage (owner `user@host`, ns `jabber:iq:roster`): `<item jid subscription ask? approved?
 * name?><group/>…</item>` per contact (XDB match `item?jid=…`), and beside them
 * `<pending xmlns="jabberd:roster:pending" jid>` holding the contact's last `subscribe` stanza
 * while it waits for an answer (match `pending?jid=…`). Keeping pending requests in the roster's
 * namespace means deleting an account's roster deletes them too.
 *
 * Roster versions (XEP-0237) are not stored: `ver` is a hash of the items as the client sees
 * them, so a roster that never changed keeps its version across restarts and no read-modify-
 * write of a counter is needed (XEP-0237 §4 allows any opaque string).
 */
import type { XdbClient } from "../../../../server/module_api.ts";
import { xdbMatch } from "../../../../server/xdb_client.ts";
import { bareOf } from "../../../../util/jid.ts";
import { NS_ROSTER, NS_ROSTER_PENDING } from "../../../../util/ns.ts";
import { Element, xml } from "../../../../xml/element.ts";
import { KeyedQueue } from "../../../../util/keyed_queue.ts";
import { PresenceView } from "./presence_view.ts";
import type { SmApi } from "../../types.ts";
import { type StateName, stateName, stateOf, type Subscription } from "./subscription_states.ts";

/** One contact of a roster, as stored. */
export interface RosterItem {
  /** The contact's bare JID, normalized. */
  jid: string;
  name?: string;
  subscription: Subscription;
  /** Pending out: the user asked for the contact's presence (`ask="subscribe"`). */
  ask: boolean;
  /** The user pre-approved the contact's subscription request (RFC 6121 §3.4). */
  approved: boolean;
  groups: string[];
}

/** One user's roster: items and pending inbound requests, both by the contact's bare JID. */
export interface Roster {
  items: Map<string, RosterItem>;
  /** The stored `subscribe` stanza of each contact waiting for an answer. */
  pending: Map<string, Element>;
}

const SUBSCRIPTIONS = new Set(["none", "to", "from", "both"]);

/** Reads a stored roster (or nothing stored) into items and pending requests. */
export function parseRoster(query: Element | undefined): Roster {
  const roster: Roster = { items: new Map(), pending: new Map() };
  for (const child of query?.elements ?? []) {
    const jid = bareOf(child.attrs.jid);
    if (jid === undefined) continue;
    if (child.local === "item") {
      const subscription = child.attrs.subscription ?? "none";
      roster.items.set(jid, {
        jid,
        name: child.attrs.name || undefined,
        subscription: SUBSCRIPTIONS.has(subscription) ? subscription as Subscription : "none",
        ask: child.attrs.ask === "subscribe",
        approved: child.attrs.approved === "true",
        groups: child.getChildren("group").map((group) => group.text()),
      });
    } else if (child.local === "pending") {
      const stanza = child.elements[0] ?? xml("presence", { type: "subscribe", from: jid });
      roster.pending.set(jid, stanza);
    }
  }
  return roster;
}

/**
 * The `<item/>` of a roster item as clients see it (RFC 6121 §2.1.2) and as it is stored;
 * `remove` makes the `subscription="remove"` item of a roster push (§2.5.2).
 */
export function itemElement(item: RosterItem, remove = false): Element {
  const attrs: Record<string, string> = { jid: item.jid };
  if (item.name) attrs.name = item.name;
  attrs.subscription = remove ? "remove" : item.subscription;
  if (!remove && item.ask) attrs.ask = "subscribe";
  if (!remove && item.approved) attrs.approved = "true";
  const element = xml("item", attrs);
  if (!remove) { for (const group of item.groups) element.append(xml("group", {}, group)); }
  return element;
}

/** The subscription state (RFC 6121 A.1) of a contact: its item, if any, and pending in. */
export function stateOfContact(roster: Roster, jid: string): StateName {
  const item = roster.items.get(jid);
  return stateName({
    subscription: item?.subscription ?? "none",
    pendingOut: item?.ask ?? false,
    pendingIn: roster.pending.has(jid),
  });
}

/** A copy of `item` (or a new item for `jid`) in the given state. */
export function withState(
  item: RosterItem | undefined,
  jid: string,
  state: StateName,
  approved: boolean,
): RosterItem {
  const { subscription, pendingOut } = stateOf(state);
  return {
    jid,
    name: item?.name,
    groups: item?.groups ?? [],
    subscription,
    ask: pendingOut,
    approved,
  };
}

/**
 * The XEP-0237 version of a roster: a hash of its items as clients see them, in a fixed order,
 * so it changes exactly when what a client would receive changes.
 */
export async function rosterVersion(roster: Roster): Promise<string> {
  const lines = [...roster.items.values()]
    .sort((a, b) => (a.jid < b.jid ? -1 : a.jid > b.jid ? 1 : 0))
    .map((item) => itemElement(item).toString());
  const bytes = new TextEncoder().encode(lines.join("\n"));
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  // 16 bytes are plenty to tell versions of one roster apart.
  return [...digest.slice(0, 16)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** A presence view and when its roster was read (`RosterStoreOptions.now`). */
interface KeptView {
  view: PresenceView;
  read: number;
}

/** What the store needs of its session manager besides XDB. */
export interface RosterStoreOptions {
  /** Whether the user has sessions: their presence views are kept while they do. */
  hasSessions?: (owner: string) => boolean;
  /** The clock for the lifetime of the views of users without sessions (ms). */
  now?: () => number;
}

/**
 * How long a presence view is used before the roster is read again. Writes through this store
 * keep a view current; this bounds how long a write by someone else goes unseen: another
 * process or Deno Deploy isolate holding a session of the same user (deploy/isolates.ts makes a
 * roster change in one of them), an import, an account deletion.
 */
export const VIEW_MS = 30_000;
/** At most this many views of users without sessions are kept; the oldest go first. */
export const OFFLINE_VIEWS_MAX = 10_000;

/**
 * Rosters of one session manager, read and written through XDB, one user at a time.
 *
 * Presence reads a compact `PresenceView` instead of the roster (docs/runtime-notes.md "Memory
 * per session"): a user with sessions has one, made from a read of the roster while online and
 * kept until the last session ends; a user without sessions (a probe to an offline contact) has
 * one too, at most OFFLINE_VIEWS_MAX of them. Every write through this store updates the view;
 * a view older than VIEW_MS is read again (a write by someone else).
 */
export class RosterStore {
  readonly #xdb: XdbClient;
  readonly #queue = new KeyedQueue();
  readonly #hasSessions: (owner: string) => boolean;
  readonly #now: () => number;
  /** The views of users with sessions, with the time they were read. */
  readonly #online = new Map<string, KeptView>();
  /** The views of users without sessions, oldest first. */
  readonly #offline = new Map<string, KeptView>();

  constructor(xdb: XdbClient, options: RosterStoreOptions = {}) {
    this.#xdb = xdb;
    this.#hasSessions = options.hasSessions ?? (() => false);
    this.#now = options.now ?? (() => Date.now());
  }

  /**
   * Runs `work` once every earlier exclusive work of `owner` finished, so that roster changes,
   * subscription handling and presence broadcasts of one user happen in the order the stanzas
   * came (a read-modify-write is never interleaved with another for the same user).
   */
  exclusive<T>(owner: string, work: () => Promise<T>): Promise<T> {
    return this.#queue.run(owner, work);
  }

  async load(owner: string): Promise<Roster> {
    return parseRoster(await this.#xdb.get(owner, NS_ROSTER));
  }

  /**
   * The presence view of `owner`'s roster (call inside `exclusive`): kept, or read from XDB.
   * A user with sessions never gets a view read while offline: the login reads it again.
   */
  async view(owner: string): Promise<PresenceView> {
    const now = this.#now();
    const online = this.#online.get(owner);
    if (online && now - online.read < VIEW_MS) return online.view;
    const offline = this.#offline.get(owner);
    if (offline && now - offline.read < VIEW_MS && !this.#hasSessions(owner)) return offline.view;
    return this.remember(owner, await this.load(owner));
  }

  /** Keeps the view of a roster just read (call inside `exclusive`, as `view` does). */
  remember(owner: string, roster: Roster): PresenceView {
    const view = PresenceView.of(roster);
    this.#offline.delete(owner);
    if (this.#hasSessions(owner)) {
      this.#online.set(owner, { view, read: this.#now() });
    } else {
      this.#online.delete(owner);
      this.#offline.set(owner, { view, read: this.#now() });
      if (this.#offline.size > OFFLINE_VIEWS_MAX) {
        this.#offline.delete(this.#offline.keys().next().value!);
      }
    }
    return view;
  }

  /** Drops the view of a user whose last session ended (call inside `exclusive`). */
  forget(owner: string): void {
    this.#online.delete(owner);
  }

  /** How many views are kept, of users with and without sessions (for tests and stats). */
  get views(): { online: number; offline: number } {
    return { online: this.#online.size, offline: this.#offline.size };
  }

  #viewOf(owner: string): PresenceView | undefined {
    return (this.#online.get(owner) ?? this.#offline.get(owner))?.view;
  }

  async putItem(owner: string, item: RosterItem): Promise<void> {
    const element = itemElement(item);
    element.attrs.xmlns = NS_ROSTER;
    await this.#xdb.insert(owner, NS_ROSTER, element, xdbMatch("item", { jid: item.jid }));
    this.#viewOf(owner)?.setItem(item);
  }

  async removeItem(owner: string, jid: string): Promise<void> {
    await this.#xdb.remove(owner, NS_ROSTER, xdbMatch("item", { jid }));
    this.#viewOf(owner)?.removeItem(jid);
  }

  async putPending(owner: string, jid: string, stanza: Element): Promise<void> {
    const element = new Element("pending", { xmlns: NS_ROSTER_PENDING, jid });
    element.append(stanza.clone());
    await this.#xdb.insert(owner, NS_ROSTER, element, xdbMatch("pending", { jid }));
    this.#viewOf(owner)?.setPending(jid, true);
  }

  async removePending(owner: string, jid: string): Promise<void> {
    await this.#xdb.remove(owner, NS_ROSTER, xdbMatch("pending", { jid }));
    this.#viewOf(owner)?.setPending(jid, false);
  }
}

const stores = new WeakMap<SmApi, RosterStore>();

/** The one roster store of a session manager, shared by the roster, subscription and presence
 * features so that they share its per-user lock and its presence views. */
export function rosterStoreOf(sm: SmApi): RosterStore {
  let store = stores.get(sm);
  if (!store) {
    store = new RosterStore(sm.api.xdb, {
      hasSessions: (owner) => sm.sessions.ofUser(owner).length > 0,
      now: () => sm.api.timer.now(),
    });
    stores.set(sm, store);
  }
  return store;
}
