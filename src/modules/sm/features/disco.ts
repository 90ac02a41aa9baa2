/**
 * XEP-0030 Service Discovery for the server and its users. disco#info of a host: the server/im
 * identity and the features every enabled feature adds through `disco-info/host` (advertise.ts);
 * of a user's bare JID: the account/registered identity and `disco-info/bare`. disco#items of a
 * host (§4) lists the services the tree routes to under it, as Prosody and ejabberd list their
 * components: every exact host of another section (its id or `<host>`, a component behind
 * `<accept>`) that is a subdomain of the host asked about (`conference.localhost` for
 * `localhost`), read from the tree when asked so a component that comes or goes is seen; then
 * the `<item jid="…" name="…"/>` children of `<sm>` (names, and services elsewhere). A user has
 * no items here.
 */
import { StanzaError } from "../../../util/errors.ts";
import { JID } from "../../../util/jid.ts";
import { NS_DISCO_INFO, NS_DISCO_ITEMS } from "../../../util/ns.ts";
import { type Element, xml } from "../../../xml/element.ts";
import type { SmFeature, StanzaEvent } from "../types.ts";
import type { DiscoInfo } from "./advertise.ts";

export const disco: SmFeature = {
  name: "disco",
  settings: ["item"],
  validate(setting, context) {
    if (!setting.attrs.jid || !JID.tryParse(setting.attrs.jid)) {
      context.problem(
        setting,
        `<item> needs jid="…" naming a service, such as "conference.example.org"`,
      );
    }
  },
  register(sm) {
    const { api } = sm;
    const items = api.config.getChildren("item").map((item) => {
      const attrs: Record<string, string> = { jid: item.attrs.jid ?? "" };
      if (item.attrs.name) attrs.name = item.attrs.name;
      if (item.attrs.node) attrs.node = item.attrs.node;
      return attrs;
    });
    const infoOf = (jid: string, identity: Record<string, string>, target: string) => {
      const info: DiscoInfo = {
        jid,
        identities: [xml("identity", identity)],
        features: new Set([NS_DISCO_INFO, NS_DISCO_ITEMS]),
      };
      api.fire(`disco-info/${target}`, info);
      return xml(
        "query",
        { xmlns: NS_DISCO_INFO },
        ...info.identities,
        ...[...info.features].sort().map((v) => xml("feature", { var: v })),
      );
    };
    /** A node we do not know is item-not-found (§3.1); the dispatcher answers it. */
    const refuseNode = (stanza: Element, ns: string) => {
      if (stanza.getChild("query", ns)?.attrs.node !== undefined) {
        throw new StanzaError("item-not-found");
      }
    };
    /** The services routed under `host`, then the configured items, each JID once. */
    const itemsOf = (host: string) => {
      const seen = new Set<string>();
      const query = xml("query", { xmlns: NS_DISCO_ITEMS });
      const add = (attrs: Record<string, string>) => {
        if (seen.has(attrs.jid) && attrs.node === undefined) return;
        seen.add(attrs.jid);
        query.append(xml("item", attrs));
      };
      const suffix = `.${host}`;
      for (const service of api.routedHosts().sort()) {
        if (service.endsWith(suffix)) add({ jid: service });
      }
      for (const attrs of items) add(attrs);
      return query;
    };

    api.hook<StanzaEvent>(`iq-get/host/${NS_DISCO_INFO}:query`, ({ stanza, to }) => {
      refuseNode(stanza, NS_DISCO_INFO);
      const host = to.domain;
      sm.reply(stanza, infoOf(host, { category: "server", type: "im", name: host }, "host"));
      return true;
    });
    api.hook<StanzaEvent>(`iq-get/host/${NS_DISCO_ITEMS}:query`, ({ stanza, to }) => {
      refuseNode(stanza, NS_DISCO_ITEMS);
      sm.reply(stanza, itemsOf(to.domain));
      return true;
    });
    // The dispatcher fires bare-JID events only for users that exist.
    const userInfo = ({ stanza, to }: StanzaEvent) => {
      refuseNode(stanza, NS_DISCO_INFO);
      const bare = to.bareString();
      sm.reply(stanza, infoOf(bare, { category: "account", type: "registered" }, "bare"));
      return true;
    };
    const userItems = ({ stanza }: StanzaEvent) => {
      refuseNode(stanza, NS_DISCO_ITEMS);
      sm.reply(stanza, xml("query", { xmlns: NS_DISCO_ITEMS }));
      return true;
    };
    for (const kind of ["self", "bare"]) {
      api.hook(`iq-get/${kind}/${NS_DISCO_INFO}:query`, userInfo);
      api.hook(`iq-get/${kind}/${NS_DISCO_ITEMS}:query`, userItems);
    }
  },
};
