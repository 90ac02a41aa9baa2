/**
 * PEP nodes and items in XDB (XEP-0163 §4, XEP-0060 §7; XEP-0223 persistent storage): one user's
 * node index and each node's items, written one user at a time.
 *
 * Storage (owner `user@host`):
 * - ns `jabberd:pep`: one `<node name access max last?><group/>…</node>` per node (its config,
 *   node_config.ts), XDB match `node?name=…`;
 * - ns `jabberd:pep:{node}`: the node's items, oldest first, each `<item id>payload</item>`
 *   (match `item?id=…`). XDB keeps every child in its own KV value, split when longer than one
 *   (64 KiB), so an OMEMO bundle or a long bookmark list never meets the KV value limit.
 */
import type { XdbClient } from "../../../../server/module_api.ts";
import { xdbMatch } from "../../../../server/xdb_client.ts";
import { type Element, xml } from "../../../../xml/element.ts";
import { KeyedQueue } from "../../../../util/keyed_queue.ts";
import { type NodeConfig, readConfig, storeConfig } from "./node_config.ts";

const NS_INDEX = "jabberd:pep";
const itemsNs = (node: string) => `${NS_INDEX}:${node}`;

export class PepStore {
  readonly #xdb: XdbClient;
  readonly #queue = new KeyedQueue();

  constructor(xdb: XdbClient) {
    this.#xdb = xdb;
  }

  /**
   * Runs `work` after every earlier exclusive work of `owner`: a publish reads the node, then
   * writes, and two publishes of one user must not interleave (max_items would be overrun).
   */
  exclusive<T>(owner: string, work: () => Promise<T>): Promise<T> {
    return this.#queue.run(owner, work);
  }

  /** Every node of `owner` with its config. */
  async nodes(owner: string): Promise<Map<string, NodeConfig>> {
    const index = await this.#xdb.get(owner, NS_INDEX);
    const nodes = new Map<string, NodeConfig>();
    for (const entry of index?.getChildren("node") ?? []) {
      if (entry.attrs.name) nodes.set(entry.attrs.name, readConfig(entry));
    }
    return nodes;
  }

  async config(owner: string, node: string): Promise<NodeConfig | undefined> {
    return (await this.nodes(owner)).get(node);
  }

  async putConfig(owner: string, node: string, config: NodeConfig): Promise<void> {
    const entry = storeConfig(xml("node", { xmlns: NS_INDEX, name: node }), config);
    await this.#xdb.insert(owner, NS_INDEX, entry, xdbMatch("node", { name: node }));
  }

  /** The node's items, oldest first, as `<item id>` without the storage namespace. */
  async items(owner: string, node: string): Promise<Element[]> {
    const stored = (await this.#xdb.get(owner, itemsNs(node)))?.getChildren("item") ?? [];
    return stored.map((item) => xml("item", { id: item.attrs.id ?? "" }, ...item.elements));
  }

  /**
   * Stores an item as the newest (XEP-0060 §7.1.2: an item published again with the same id
   * replaces the old one and becomes the newest), then drops the oldest beyond `maxItems`.
   */
  async putItem(owner: string, node: string, item: Element, maxItems: number): Promise<void> {
    const ns = itemsNs(node);
    const id = item.attrs.id;
    const items = await this.items(owner, node);
    const kept = items.filter((old) => old.attrs.id !== id);
    if (kept.length < items.length) {
      await this.#xdb.remove(owner, ns, xdbMatch("item", { id }));
    }
    const stored = item.clone();
    stored.attrs.xmlns = ns;
    await this.#xdb.insert(owner, ns, stored);
    for (const old of kept.slice(0, Math.max(0, kept.length + 1 - maxItems))) {
      await this.#xdb.remove(owner, ns, xdbMatch("item", { id: old.attrs.id ?? "" }));
    }
  }

  /** Removes an item; false when the node had none of that id. */
  async removeItem(owner: string, node: string, id: string): Promise<boolean> {
    const items = await this.items(owner, node);
    if (!items.some((item) => item.attrs.id === id)) return false;
    await this.#xdb.remove(owner, itemsNs(node), xdbMatch("item", { id }));
    return true;
  }

  /** Removes every item of a node, keeping the node (XEP-0060 §8.5 purge). */
  async purge(owner: string, node: string): Promise<void> {
    await this.#xdb.set(owner, itemsNs(node), undefined);
  }

  /** Removes a node and its items (XEP-0060 §8.4). */
  async deleteNode(owner: string, node: string): Promise<void> {
    await this.#xdb.set(owner, itemsNs(node), undefined);
    await this.#xdb.remove(owner, NS_INDEX, xdbMatch("node", { name: node }));
  }

  /** Removes everything of a user (the account was deleted). */
  async deleteAll(owner: string): Promise<void> {
    for (const node of (await this.nodes(owner)).keys()) await this.deleteNode(owner, node);
    await this.#xdb.set(owner, NS_INDEX, undefined);
  }
}
