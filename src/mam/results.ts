/**
 * The answer to an archive query (XEP-0313 §4.2 results, §4.3 `<fin>` with XEP-0059 `<set>`):
 * one `<message>` per archived message, each a `<result>` with the message `<forwarded>`
 * (XEP-0297) under its `<delay>` (XEP-0203), then the `<fin>` the iq result carries. Used by the
 * user archives of the session manager and the room archives of MUC alike.
 */
import { NS_DELAY, NS_FORWARD, NS_MAM, NS_RSM } from "../util/ns.ts";
import { type Element, xml } from "../xml/element.ts";
import type { Page } from "./archive.ts";
import type { MamQuery } from "./query.ts";

export interface QueryAnswer {
  /** The result messages, in the order to send them, `from` the archive, `to` the asker. */
  messages: Element[];
  /** The payload of the iq result. */
  fin: Element;
}

/** The results of `page` for `query` on the archive of `owner`, sent to `asker`. */
export function queryAnswer(
  query: MamQuery,
  page: Page,
  owner: string,
  asker: string,
): QueryAnswer {
  const items = query.flip ? [...page.items].reverse() : page.items;
  const messages = items.map(({ id, stamp, message }) => {
    const result = xml("result", { xmlns: NS_MAM, id });
    if (query.queryid !== undefined) result.attrs.queryid = query.queryid;
    const inner = message.clone();
    inner.attrs.xmlns = "jabber:client";
    result.append(
      xml("forwarded", { xmlns: NS_FORWARD }, xml("delay", { xmlns: NS_DELAY, stamp }), inner),
    );
    return xml("message", { from: owner, to: asker }, result);
  });
  const set = xml("set", { xmlns: NS_RSM });
  if (items.length > 0) {
    set.append(xml("first", {}, items[0].id), xml("last", {}, items.at(-1)!.id));
  }
  set.append(xml("count", {}, String(page.count)));
  const fin = xml("fin", { xmlns: NS_MAM }, set);
  if (page.complete) fin.attrs.complete = "true";
  if (query.queryid !== undefined) fin.attrs.queryid = query.queryid;
  return { messages, fin };
}
