/**
 * A session manager with rosters, presence, private XML, disco and PEP for the PEP tests, and
 * the client side of XEP-0115: presence with caps and the answer to the server's disco#info.
 * Tests only.
 */
import assert from "node:assert/strict";
import { NS_CAPS, NS_DISCO_INFO, NS_PUBSUB_EVENT, NS_ROSTER } from "../../../../util/ns.ts";
import { type Element, xml } from "../../../../xml/element.ts";
import { parse, smWorld } from "../../_testing.ts";
import type { Session } from "../../types.ts";
import { disco } from "../disco.ts";
import { privateXml } from "../private.ts";
import { presence, roster, subscription } from "../roster/mod.ts";
import { verOf } from "./caps.ts";
import { pep } from "./mod.ts";

export async function pepWorld() {
  const world = await smWorld({
    features: [roster, subscription, presence, privateXml, disco, pep],
  });

  /** Puts `contact` in `owner`'s roster with a subscription (and groups). */
  const befriend = async (
    owner: string,
    contact: string,
    subscription = "both",
    ...groups: string[]
  ) => {
    const item = xml("item", { xmlns: NS_ROSTER, jid: contact, subscription });
    for (const group of groups) item.append(xml("group", {}, group));
    await world.api.xdb.insert(owner, NS_ROSTER, item);
  };

  /** What sessions got that a helper read past (the events after a caps answer). */
  const held = new Map<Session, Element[]>();
  /** Everything a session got since the last call. */
  const inbox = (session: Session): Element[] => {
    const stanzas = [...(held.get(session) ?? []), ...world.take(session)];
    held.delete(session);
    return stanzas;
  };

  /** A client's disco#info with the given features. */
  const discoInfo = (features: string[]) =>
    xml(
      "query",
      { xmlns: NS_DISCO_INFO },
      xml("identity", { category: "client", type: "pc", name: "Test" }),
      ...features.map((feature) => xml("feature", { var: feature })),
    );

  /**
   * The session sends available presence (to `to`, or broadcast) with the caps of `features`
   * and, when the server
   * asks (once per new ver), answers its disco#info; answers whether it was asked.
   */
  const online = async (session: Session, features: string[], to?: string) => {
    const info = discoInfo(features);
    const ver = (await verOf(info, "sha-1"))!;
    const c = xml("c", { xmlns: NS_CAPS, hash: "sha-1", node: "https://test.example", ver });
    await world.send(xml("presence", to === undefined ? {} : { to }, c), session);
    const got = world.take(session);
    const queries = got.filter((stanza) => stanza.is("iq"));
    held.set(session, got.filter((stanza) => !stanza.is("iq")));
    for (const query of queries) {
      assert.equal(
        query.getChild("query", NS_DISCO_INFO)!.attrs.node,
        `https://test.example#${ver}`,
      );
      const answer = discoInfo(features);
      answer.attrs.node = query.getChild("query", NS_DISCO_INFO)!.attrs.node;
      await world.send(
        xml("iq", { type: "result", id: query.attrs.id!, to: query.attrs.from! }, answer),
        session,
      );
    }
    return queries.length > 0;
  };

  /** Sends an iq as the session and answers the reply. */
  const iq = async (session: Session, text: string): Promise<Element> => {
    await world.send(text, session);
    const got = inbox(session);
    const replies = got.filter((stanza) => stanza.is("iq"));
    held.set(session, got.filter((stanza) => !stanza.is("iq")));
    assert.equal(replies.length, 1, `one reply to ${text}`);
    return replies[0];
  };

  /** The (defined, pubsub) conditions of an error reply. */
  const conditions = (reply: Element) =>
    reply.getChild("error")?.elements.filter((e) => e.local !== "text").map((e) => e.local);

  /** The `<event/>` messages a session got since the last take, as `node id|retract:id`. */
  const events = (session: Session) =>
    inbox(session).filter((stanza) => stanza.is("message")).map((message) => {
      const items = message.getChild("event", NS_PUBSUB_EVENT)!.elements[0];
      for (const item of items.elements) assert.equal(item.ns, NS_PUBSUB_EVENT, item.toString());
      const what = items.elements.map((item) =>
        item.local === "retract" ? `retract:${item.attrs.id}` : item.attrs.id
      );
      return `${items.local === "items" ? "" : items.local + " "}${items.attrs.node} ${what}`
        .trim();
    });

  // Onto the world itself: a spread would read its getters (`remote`, `sm`) once.
  return Object.assign(world, { befriend, online, iq, conditions, events, inbox, parse });
}
