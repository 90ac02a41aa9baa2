/**
 * XEP-0049 Private XML Storage: a user stores and reads back elements by namespace, each stored
 * as `<item key="name ns">` under ns `jabber:iq:private`. Only the user reaches their own data
 * (§2: others get forbidden); reserved namespaces are refused with not-acceptable (§3).
 */
import { StanzaError } from "../../../util/errors.ts";
import { NS_PRIVATE } from "../../../util/ns.ts";
import { type Element, xml } from "../../../xml/element.ts";
import { matchOf } from "../../xdb/match.ts";
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
    const run = (stanza: Element, work: (owner: string, query: Element) => Promise<void>) => {
      const owner = stanza.attrs.from ? stanza.attrs.from.replace(/\/.*$/, "") : "";
      const query = stanza.getChild("query", NS_PRIVATE)!;
      work(owner, query).catch((error) => {
        if (!(error instanceof StanzaError)) api.log.error(`Private XML failed: ${error}`);
        sm.replyError(
          stanza,
          error instanceof StanzaError ? error : new StanzaError("internal-server-error"),
        );
      });
      return true;
    };
    api.hook<StanzaEvent>(
      `iq-get/self/${NS_PRIVATE}:query`,
      ({ stanza }) =>
        run(stanza, async (owner, query) => {
          const [wanted, ...more] = query.elements;
          if (!wanted || more.length > 0) {
            throw new StanzaError("bad-request", "Ask for exactly one element");
          }
          const key = keyOf(wanted);
          const stored = await api.xdb.get(owner, NS_PRIVATE);
          const item = stored?.getChildren("item").find((i) => i.attrs.key === key);
          const found = item?.elements[0]?.clone() ?? xml(wanted.local, { xmlns: wanted.ns });
          sm.reply(stanza, xml("query", { xmlns: NS_PRIVATE }, found));
        }),
    );
    api.hook<StanzaEvent>(
      `iq-set/self/${NS_PRIVATE}:query`,
      ({ stanza }) =>
        run(stanza, async (owner, query) => {
          if (query.elements.length === 0) throw new StanzaError("bad-request", "Nothing to store");
          const items = query.elements.map((element) => {
            const key = keyOf(element);
            const copy = element.clone();
            copy.attrs.xmlns = element.ns;
            return { key, item: xml("item", { key }, copy) };
          });
          for (const { key, item } of items) {
            await api.xdb.insert(owner, NS_PRIVATE, item, matchOf("item", { key }));
          }
          sm.reply(stanza);
        }),
    );
    const forbidden = ({ stanza }: StanzaEvent) => {
      sm.replyError(stanza, new StanzaError("forbidden", "Private XML belongs to its owner only"));
      return true;
    };
    api.hook(`iq-get/bare/${NS_PRIVATE}:query`, forbidden);
    api.hook(`iq-set/bare/${NS_PRIVATE}:query`, forbidden);
  },
};
