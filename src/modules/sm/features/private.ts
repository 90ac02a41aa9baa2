/**
 * XEP-0049 Private XML Storage: a user stores and reads back elements by namespace, each stored
 * as `<item key="name ns">` under ns `jabber:iq:private`. Only the user reaches their own data
 * (§2: others get forbidden); reserved namespaces are refused with not-acceptable (§3).
 * After a store it fires `private-stored` ({ owner, elements }) and awaits its hook, so that
 * XEP-0411 bookmarks conversion (pep/bookmarks.ts) is done before the answer.
 */
import { StanzaError } from "../../../util/errors.ts";
import { NS_PRIVATE } from "../../../util/ns.ts";
import { xdbMatch } from "../../../server/xdb_client.ts";
import { type Element, xml } from "../../../xml/element.ts";
import type { SmFeature, StanzaEvent } from "../types.ts";
import { advertise } from "./advertise.ts";

/** Namespaces a client may not store under: the stream's own and this protocol's. */
const RESERVED = new Set(["", "jabber:client", "jabber:server", "jabber:component:accept"]);
RESERVED.add(NS_PRIVATE);

/** The stored item's key: the element's local name and namespace. */
function keyOf(element: Element): string {
  if (RESERVED.has(element.ns)) {
    throw new StanzaError("not-acceptable", `The namespace "${element.ns}" is reserved`);
  }
  return `${element.local} ${element.ns}`;
}

export const privateXml: SmFeature = {
  name: "private",
  register(sm) {
    const { api } = sm;
    advertise(sm, "bare", NS_PRIVATE);
    const queryOf = (stanza: Element) => stanza.getChild("query", NS_PRIVATE)!;
    // Self events: `to` is the user's own bare JID. The dispatcher answers what they throw.
    api.hook<StanzaEvent>(`iq-get/self/${NS_PRIVATE}:query`, async ({ stanza, to }) => {
      const [wanted, ...more] = queryOf(stanza).elements;
      if (!wanted || more.length > 0) {
        throw new StanzaError("bad-request", "Ask for exactly one element");
      }
      const key = keyOf(wanted);
      const stored = await api.xdb.get(to.bareString(), NS_PRIVATE);
      const item = stored?.getChildren("item").find((i) => i.attrs.key === key);
      const found = item?.elements[0]?.clone() ?? xml(wanted.local, { xmlns: wanted.ns });
      sm.reply(stanza, xml("query", { xmlns: NS_PRIVATE }, found));
    });
    api.hook<StanzaEvent>(`iq-set/self/${NS_PRIVATE}:query`, async ({ stanza, to }) => {
      const query = queryOf(stanza);
      if (query.elements.length === 0) throw new StanzaError("bad-request", "Nothing to store");
      const items = query.elements.map((element) => {
        const key = keyOf(element);
        const copy = element.clone();
        copy.attrs.xmlns = element.ns;
        return { key, item: xml("item", { key }, copy) };
      });
      const owner = to.bareString();
      for (const { key, item } of items) {
        await api.xdb.insert(owner, NS_PRIVATE, item, xdbMatch("item", { key }));
      }
      // XEP-0411: the PEP feature mirrors storage:bookmarks (pep/bookmarks.ts); answered after.
      const elements = items.map(({ item }) => item.elements[0]);
      await api.fire("private-stored", { owner, elements });
      sm.reply(stanza);
    });
    const forbidden = () => {
      throw new StanzaError("forbidden", "Private XML belongs to its owner only");
    };
    api.hook(`iq-get/bare/${NS_PRIVATE}:query`, forbidden);
    api.hook(`iq-set/bare/${NS_PRIVATE}:query`, forbidden);
  },
};
