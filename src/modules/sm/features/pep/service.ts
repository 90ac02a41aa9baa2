/**
 * The PEP service of every local account (XEP-0163 §4–§6 on XEP-0060 §6–§8): publishing with
 * auto-create and publish-options, retracting, reading items under the node's access model,
 * node configuration, and notifications filtered by what each resource's XEP-0115 caps say it
 * wants (`{node}+notify`, XEP-0163 §4.3.2), including the last item when a resource shows up.
 *
 * Who may be notified: the resources that sent the account available presence: the owner's own
 * (their broadcast) and the contacts' (the presence they send the owner's bare JID), each with
 * the caps of its last presence; the access model is checked when a notification is sent, so a
 * contact that lost its subscription gets nothing more. This list lives in memory: after a
 * restart, it fills again as presence comes (the presence feature probes on login).
 *
 * Caps the cache does not know are asked for with disco#info from the owner's host (XEP-0115
 * §6.2); answers to a host come back as `iq-result/host/{id}` events, so every query carries
 * the one id `CAPS_QUERY_ID` and answers are told apart by who sends them.
 */
import { StanzaError } from "../../../../util/errors.ts";
import { bareOf } from "../../../../util/jid.ts";
import { NS_DISCO_INFO, NS_PUBSUB_EVENT, NS_ROSTER } from "../../../../util/ns.ts";
import { type Element, xml } from "../../../../xml/element.ts";
import type { SmApi } from "../../types.ts";
import { CapsCache, capsKey, type CapsRef } from "./caps.ts";
import {
  applyForm,
  checkPreconditions,
  DEFAULT_CONFIG,
  type NodeConfig,
  PubsubError,
} from "./node_config.ts";
import { PepStore } from "./store.ts";

/** The id of every caps query the service sends (see the file comment). */
export const CAPS_QUERY_ID = "pep-caps";

/** A contact as the owner's roster has it, for access models presence and roster. */
interface Contact {
  subscription: string;
  groups: string[];
}

export class PepService {
  readonly sm: SmApi;
  readonly store: PepStore;
  readonly caps = new CapsCache();
  /** Owner bare JID → full JID of each resource that sent it available presence → its caps. */
  readonly #presences = new Map<string, Map<string, CapsRef | undefined>>();
  /**
   * The same pairs from the other side: full JID → the owners it sent presence to, so a session
   * ending or a caps answer touches only its own owners, not every user online.
   */
  readonly #ownersOf = new Map<string, Set<string>>();
  /** Called after a node of an owner changed (the bookmarks bridge listens). */
  readonly #changed: ((owner: string, node: string) => Promise<void>)[] = [];

  constructor(sm: SmApi) {
    this.sm = sm;
    this.store = new PepStore(sm.api.xdb);
  }

  /** Runs `listener` after each publish, retract, purge or delete, before the reply. */
  onChange(listener: (owner: string, node: string) => Promise<void>): void {
    this.#changed.push(listener);
  }

  async #afterChange(owner: string, node: string): Promise<void> {
    for (const listener of this.#changed) await listener(owner, node);
  }

  // ---- Publishing (XEP-0060 §7.1, §7.2, §8.1, §8.4, §8.5) ----

  /**
   * Publishes `item` (its id given or made) to `node`, creating the node with `options` if it
   * does not exist (XEP-0163 §3 auto-create) or checking them as preconditions (§7.1.5).
   * Answers the item's id. `quiet` skips the change listeners (the bookmarks bridge itself).
   */
  publish(
    owner: string,
    node: string,
    item: Element,
    options?: Map<string, string[]>,
    quiet = false,
  ): Promise<string> {
    return this.store.exclusive(owner, async () => {
      let config = await this.store.config(owner, node);
      if (config && options) checkPreconditions(config, options);
      if (!config) {
        config = applyForm(DEFAULT_CONFIG, options ?? new Map());
        await this.store.putConfig(owner, node, config);
      }
      const id = item.attrs.id || crypto.randomUUID();
      const stored = xml("item", { id }, ...item.elements.map(withNs));
      await this.store.putItem(owner, node, stored, config.maxItems);
      if (!quiet) await this.#afterChange(owner, node);
      await this.notify(owner, node, config, xml("items", { node }, stored));
      return id;
    });
  }

  /** Retracts one item (§7.2); item-not-found when the node or the item is not there. */
  retract(owner: string, node: string, id: string, quiet = false): Promise<void> {
    return this.store.exclusive(owner, async () => {
      const config = await this.#existing(owner, node);
      if (!await this.store.removeItem(owner, node, id)) {
        throw new StanzaError("item-not-found", "The node has no item of that id");
      }
      if (!quiet) await this.#afterChange(owner, node);
      const retract = xml("items", { node }, xml("retract", { id }));
      await this.notify(owner, node, config, retract);
    });
  }

  /** Creates a node (§8.1); conflict when it exists. */
  create(owner: string, node: string, options?: Map<string, string[]>): Promise<void> {
    return this.store.exclusive(owner, async () => {
      if (await this.store.config(owner, node)) {
        throw new StanzaError("conflict", "The node exists");
      }
      await this.store.putConfig(owner, node, applyForm(DEFAULT_CONFIG, options ?? new Map()));
    });
  }

  /** Changes a node's configuration (§8.2.4). */
  configure(owner: string, node: string, options: Map<string, string[]>): Promise<void> {
    return this.store.exclusive(owner, async () => {
      const config = applyForm(await this.#existing(owner, node), options);
      await this.store.putConfig(owner, node, config);
      // Fewer items allowed now: the oldest beyond the new limit go.
      const items = await this.store.items(owner, node);
      for (const old of items.slice(0, Math.max(0, items.length - config.maxItems))) {
        await this.store.removeItem(owner, node, old.attrs.id ?? "");
      }
    });
  }

  /** Deletes a node (§8.4) or only its items (`purge`, §8.5), and tells those notified. */
  remove(owner: string, node: string, purge: boolean): Promise<void> {
    return this.store.exclusive(owner, async () => {
      const config = await this.#existing(owner, node);
      if (purge) await this.store.purge(owner, node);
      else await this.store.deleteNode(owner, node);
      await this.#afterChange(owner, node);
      await this.notify(owner, node, config, xml(purge ? "purge" : "delete", { node }));
    });
  }

  async #existing(owner: string, node: string): Promise<NodeConfig> {
    const config = await this.store.config(owner, node);
    if (!config) throw new StanzaError("item-not-found", "No such node");
    return config;
  }

  // ---- Reading (XEP-0060 §6.5) ----

  /**
   * The items of `node` that `requester` (a bare JID) may read: those of `ids`, or the newest
   * `max`, or all of them, oldest first.
   */
  async items(
    owner: string,
    requester: string,
    node: string,
    ids: string[],
    max?: number,
  ): Promise<Element[]> {
    const config = await this.#existing(owner, node);
    await this.checkAccess(owner, requester, config);
    const items = await this.store.items(owner, node);
    if (ids.length > 0) return items.filter((item) => ids.includes(item.attrs.id ?? ""));
    return max === undefined ? items : items.slice(Math.max(0, items.length - max));
  }

  /** Throws the error §6.5.9 names when `requester` may not read a node of this config. */
  async checkAccess(
    owner: string,
    requester: string,
    config: NodeConfig,
    roster?: Map<string, Contact>,
  ): Promise<void> {
    if (requester === owner || config.access === "open") return;
    if (config.access === "whitelist") {
      throw new PubsubError("not-allowed", "closed-node", "The node is the owner's only");
    }
    const contact = (roster ?? await this.roster(owner)).get(requester);
    if (config.access === "presence") {
      if (contact?.subscription === "from" || contact?.subscription === "both") return;
      throw new PubsubError("not-authorized", "presence-subscription-required");
    }
    if (contact && contact.groups.some((group) => config.groups.includes(group))) return;
    throw new PubsubError("not-authorized", "not-in-roster-group");
  }

  /** The owner's contacts with subscription and groups (roster storage, RFC 6121 §2). */
  async roster(owner: string): Promise<Map<string, Contact>> {
    const stored = await this.sm.api.xdb.get(owner, NS_ROSTER);
    const contacts = new Map<string, Contact>();
    for (const item of stored?.getChildren("item") ?? []) {
      const jid = bareOf(item.attrs.jid);
      if (jid === undefined) continue;
      const groups = item.getChildren("group").map((group) => group.text());
      contacts.set(jid, { subscription: item.attrs.subscription ?? "none", groups });
    }
    return contacts;
  }

  // ---- Notifications (XEP-0163 §4.3) ----

  /**
   * Sends `event` (an `<items>`, `<delete>` or `<purge>`) about `node` of `owner` to every
   * resource that wants `{node}+notify` and may read the node.
   */
  async notify(owner: string, node: string, config: NodeConfig, event: Element) {
    const wanted = `${node}+notify`;
    const targets = [...(this.#presences.get(owner) ?? [])].filter(([full, caps]) =>
      this.caps.features(caps, full)?.has(wanted)
    );
    if (targets.length === 0) return;
    const roster = targets.some(([full]) => bareOf(full) !== owner)
      ? await this.roster(owner)
      : undefined;
    for (const [full] of targets) {
      if (await this.#mayRead(owner, full, config, roster)) this.#send(owner, full, event);
    }
  }

  async #mayRead(
    owner: string,
    full: string,
    config: NodeConfig,
    roster?: Map<string, Contact>,
  ): Promise<boolean> {
    try {
      await this.checkAccess(owner, bareOf(full) ?? full, config, roster);
      return true;
    } catch (error) {
      if (error instanceof StanzaError) return false;
      throw error;
    }
  }

  #send(owner: string, full: string, event: Element): void {
    // Headline: not stored offline, not copied by carbons (XEP-0163 §4.3.1 example).
    const message = xml(
      "message",
      { from: owner, to: full, type: "headline" },
      xml("event", { xmlns: NS_PUBSUB_EVENT }, event.clone()),
    );
    this.sm.route(message);
  }

  /**
   * XEP-0163 §4.3.1 (last published item): the newest item of each node `full` wants and may
   * read, sent when it shows up or its caps become known.
   */
  async sendLast(owner: string, full: string, caps: CapsRef | undefined): Promise<void> {
    const features = this.caps.features(caps, full);
    if (!features) return;
    const nodes = [...await this.store.nodes(owner)].filter(([node, config]) =>
      config.sendLast && features.has(`${node}+notify`)
    );
    if (nodes.length === 0) return;
    const roster = bareOf(full) === owner ? undefined : await this.roster(owner);
    for (const [node, config] of nodes) {
      if (!await this.#mayRead(owner, full, config, roster)) continue;
      const last = (await this.store.items(owner, node)).at(-1);
      if (last) this.#send(owner, full, xml("items", { node }, last));
    }
  }

  // ---- Presence and caps (XEP-0115) ----

  /**
   * `full` sent `owner` a presence (available or not): remembered with its caps; a resource
   * new to the owner, or with new caps, gets the last items (now, or once its caps are known).
   */
  presence(owner: string, full: string, presence: Element, caps: CapsRef | undefined) {
    const type = presence.attrs.type;
    let seen = this.#presences.get(owner);
    if (type !== undefined) {
      if (type === "unavailable" || type === "error") this.gone(owner, full);
      return;
    }
    if (!seen) this.#presences.set(owner, seen = new Map());
    const before = seen.get(full);
    const fresh = !seen.has(full) || (before && capsKey(before)) !== (caps && capsKey(caps));
    seen.set(full, caps);
    let owners = this.#ownersOf.get(full);
    if (!owners) this.#ownersOf.set(full, owners = new Set());
    owners.add(owner);
    if (!fresh || !caps) return;
    if (this.caps.features(caps, full)) {
      this.#background(this.sendLast(owner, full, caps), full);
    } else if (this.caps.shouldAsk(caps, full, this.sm.api.timer.now())) {
      const query = xml("query", { xmlns: NS_DISCO_INFO, node: `${caps.node}#${caps.ver}` });
      const domain = owner.slice(owner.indexOf("@") + 1);
      this.sm.route(xml("iq", { type: "get", id: CAPS_QUERY_ID, from: domain, to: full }, query));
    }
  }

  /** `full` is no longer available to `owner` (or at all, when `owner` is omitted). */
  gone(owner: string | undefined, full: string): void {
    const owners = this.#ownersOf.get(full);
    for (const who of owner !== undefined ? [owner] : [...owners ?? []]) {
      const seen = this.#presences.get(who);
      seen?.delete(full);
      if (seen?.size === 0) this.#presences.delete(who);
      owners?.delete(who);
    }
    if (owners?.size === 0) this.#ownersOf.delete(full);
    if (owner === undefined) this.caps.forget(full);
  }

  /** The disco#info answer of `full` to a caps query: cached, then the waiting last items. */
  async capsAnswered(full: string, query: Element | undefined): Promise<void> {
    if (!query) return this.caps.failed(full);
    const caps = await this.caps.answered(full, query);
    if (!caps) return;
    for (const owner of [...this.#ownersOf.get(full) ?? []]) {
      const current = this.#presences.get(owner)?.get(full);
      if (current && capsKey(current) === capsKey(caps)) await this.sendLast(owner, full, current);
    }
  }

  #background(work: Promise<void>, full: string): void {
    work.catch((error) => this.sm.api.log.warn(`PEP last items to ${full} failed: ${error}`));
  }
}

/** A payload as stored and sent: detached from the stanza, with its namespace declared. */
function withNs(payload: Element): Element {
  const copy = payload.clone();
  copy.attrs.xmlns = payload.ns;
  return copy;
}
