/**
 * XEP-0411 Bookmarks Conversion, both ways (advertised as XEP-0402 §3.2 `urn:xmpp:bookmarks:1#compat`):
 * a change of the PEP node `urn:xmpp:bookmarks:1` (one item per room, XEP-0402 §3) rewrites the
 * XEP-0048 `<storage xmlns="storage:bookmarks">` kept in private XML storage (XEP-0049), and a
 * client that stores `storage:bookmarks` there has its rooms published to the node, added,
 * changed and retracted, with notifications, so old and new clients of one account agree.
 *
 * The private XML feature (private.ts) fires `private-stored` ({ owner, elements }) after a
 * store and awaits what its hook returns; the stored form of private XML (`<item key="storage
 * storage:bookmarks">` in `jabber:iq:private`) is written here directly, so that the write
 * coming from PEP does not come back as a change. Legacy `<url/>` bookmarks, which XEP-0402 has
 * no place for, are kept in private storage as they were. `<extensions>` of a XEP-0402
 * bookmark survive a change made by a legacy client.
 */
import { xdbMatch } from "../../../../server/xdb_client.ts";
import { bareOf } from "../../../../util/jid.ts";
import { NS_BOOKMARKS, NS_BOOKMARKS_LEGACY, NS_PRIVATE } from "../../../../util/ns.ts";
import { type Element, xml } from "../../../../xml/element.ts";
import type { SmApi } from "../../types.ts";
import type { PepService } from "./service.ts";

/** What private.ts fires after storing elements for a user. */
export interface PrivateStoredEvent {
  owner: string;
  elements: readonly Element[];
}

/** The event's name. */
export const PRIVATE_STORED = "private-stored";

/** XEP-0402 §5: what a bookmarks node is created with (owner only, every room kept). */
const NODE_OPTIONS = new Map([
  ["pubsub#access_model", ["whitelist"]],
  ["pubsub#max_items", ["max"]],
  ["pubsub#send_last_published_item", ["never"]],
]);

const PRIVATE_KEY = `storage ${NS_BOOKMARKS_LEGACY}`;

const isTrue = (value: string | undefined) => value === "true" || value === "1";

/** XEP-0411 §4: a XEP-0402 item (`id` is the room) as a XEP-0048 `<conference/>`. */
export function toLegacy(item: Element): Element | undefined {
  const conference = item.getChild("conference", NS_BOOKMARKS);
  if (!conference || !item.attrs.id) return undefined;
  const attrs: Record<string, string> = { jid: item.attrs.id };
  if (conference.attrs.name) attrs.name = conference.attrs.name;
  if (isTrue(conference.attrs.autojoin)) attrs.autojoin = "true";
  const legacy = xml("conference", attrs);
  for (const name of ["nick", "password"]) {
    const text = conference.getChildText(name);
    if (text !== undefined) legacy.append(xml(name, {}, text));
  }
  return legacy;
}

/** XEP-0411 §5: a XEP-0048 `<conference/>` as a XEP-0402 payload, keeping `extensions`. */
export function fromLegacy(legacy: Element, extensions?: Element): Element {
  const attrs: Record<string, string> = { xmlns: NS_BOOKMARKS };
  if (legacy.attrs.name) attrs.name = legacy.attrs.name;
  if (isTrue(legacy.attrs.autojoin)) attrs.autojoin = "true";
  const conference = xml("conference", attrs);
  for (const name of ["nick", "password"]) {
    const text = legacy.getChildText(name);
    if (text !== undefined) conference.append(xml(name, {}, text));
  }
  if (extensions) conference.append(extensions.clone());
  return conference;
}

export function bridgeBookmarks(sm: SmApi, service: PepService): void {
  const { xdb } = sm.api;

  const readLegacy = async (owner: string) => {
    const stored = await xdb.get(owner, NS_PRIVATE);
    const item = stored?.getChildren("item").find((item) => item.attrs.key === PRIVATE_KEY);
    return item?.getChild("storage", NS_BOOKMARKS_LEGACY);
  };

  // PEP → private XML: the whole list again from the node's items, legacy URLs kept.
  service.onChange(async (owner, node) => {
    if (node !== NS_BOOKMARKS) return;
    const items = await service.store.items(owner, node);
    const storage = xml("storage", { xmlns: NS_BOOKMARKS_LEGACY });
    for (const item of items) {
      const conference = toLegacy(item);
      if (conference) storage.append(conference);
    }
    for (const url of (await readLegacy(owner))?.getChildren("url") ?? []) {
      storage.append(url.clone());
    }
    const entry = xml("item", { key: PRIVATE_KEY }, storage);
    await xdb.insert(owner, NS_PRIVATE, entry, xdbMatch("item", { key: PRIVATE_KEY }));
  });

  // Private XML → PEP: publish what is new or changed, retract what is gone.
  sm.api.hook<PrivateStoredEvent>(PRIVATE_STORED, ({ owner, elements }) => {
    const storage = elements.find((element) => element.is("storage", NS_BOOKMARKS_LEGACY));
    if (!storage) return undefined;
    return (async () => {
      const config = await service.store.config(owner, NS_BOOKMARKS);
      const old = new Map<string, Element>();
      for (const item of config ? await service.store.items(owner, NS_BOOKMARKS) : []) {
        if (item.attrs.id) old.set(item.attrs.id, item);
      }
      const wanted = new Set<string>();
      for (const legacy of storage.getChildren("conference")) {
        const room = bareOf(legacy.attrs.jid);
        if (room === undefined || wanted.has(room)) continue;
        wanted.add(room);
        const before = old.get(room)?.getChild("conference", NS_BOOKMARKS);
        const payload = fromLegacy(legacy, before?.getChild("extensions"));
        if (before && sameBookmark(before, payload)) continue;
        const options = config ? undefined : NODE_OPTIONS;
        await service.publish(
          owner,
          NS_BOOKMARKS,
          xml("item", { id: room }, payload),
          options,
          true,
        );
      }
      for (const room of old.keys()) {
        if (!wanted.has(room)) await service.retract(owner, NS_BOOKMARKS, room, true);
      }
    })();
  });
}

/** True when two XEP-0402 payloads say the same (as text, attribute order aside). */
function sameBookmark(a: Element, b: Element): boolean {
  const canonical = (conference: Element) => {
    const copy = conference.clone();
    copy.attrs = Object.fromEntries(
      Object.entries(copy.attrs).filter(([name]) => name !== "xmlns").sort(),
    );
    return copy.toString();
  };
  return canonical(a) === canonical(b);
}
