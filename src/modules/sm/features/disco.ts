/**
 * XEP-0030 Service Discovery for the server and its users. disco#info of a host: the server/im
 * identity and the features every enabled feature adds through `disco-info/host` (advertise.ts);
 * of a user's bare JID: the account/registered identity and `disco-info/bare`. disco#items of a
 * host lists the `<item jid="…" name="…"/>` children of `<sm>` (a module cannot see the other
 * sections of the config); a user has no items here.
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
    /** A node we do not know is item-not-found (§3.1); undefined when no node was asked. */
    const refuseNode = (stanza: Element, ns: string) => {
      if (stanza.getChild("query", ns)?.attrs.node === undefined) return false;
      sm.replyError(stanza, new StanzaError("item-not-found"));
      return true;
    };

    api.hook<StanzaEvent>(`iq-get/host/${NS_DISCO_INFO}:query`, ({ stanza }) => {
      if (refuseNode(stanza, NS_DISCO_INFO)) return true;
      const host = stanza.attrs.to!;
      sm.reply(stanza, infoOf(host, { category: "server", type: "im", name: host }, "host"));
      return true;
    });
    api.hook<StanzaEvent>(`iq-get/host/${NS_DISCO_ITEMS}:query`, ({ stanza }) => {
      if (refuseNode(stanza, NS_DISCO_ITEMS)) return true;
      const query = xml("query", { xmlns: NS_DISCO_ITEMS });
      for (const attrs of items) query.append(xml("item", attrs));
      sm.reply(stanza, query);
      return true;
    });
    const userInfo = ({ stanza, origin }: StanzaEvent) => {
      if (refuseNode(stanza, NS_DISCO_INFO)) return true;
      const bare = stanza.attrs.to?.replace(/\/.*$/, "") ?? origin!.jid.bareString();
      sm.userExists(bare).then((exists) => {
        if (!exists) return sm.replyError(stanza, new StanzaError("service-unavailable"));
        sm.reply(stanza, infoOf(bare, { category: "account", type: "registered" }, "bare"));
      }).catch(() => sm.replyError(stanza, new StanzaError("internal-server-error")));
      return true;
    };
    const userItems = ({ stanza }: StanzaEvent) => {
      if (!refuseNode(stanza, NS_DISCO_ITEMS)) {
        sm.reply(stanza, xml("query", { xmlns: NS_DISCO_ITEMS }));
      }
      return true;
    };
    for (const kind of ["self", "bare"]) {
      api.hook(`iq-get/${kind}/${NS_DISCO_INFO}:query`, userInfo);
      api.hook(`iq-get/${kind}/${NS_DISCO_ITEMS}:query`, userItems);
    }
  },
};
