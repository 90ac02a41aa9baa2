/**
 * XEP-0012 Last Activity: the server's uptime for an iq to a host (§5), and a user's last logout
 * for an iq to their bare JID (§4) from the user or a contact with a `from` or `both`
 * subscription (others get forbidden). When a user's last session ends, the time and the status
 * of their last unavailable presence are stored under ns `jabber:iq:last`; while a session is
 * online the answer is 0 seconds.
 */
import { describe, StanzaError } from "../../../util/errors.ts";
import { NS_LAST, NS_ROSTER } from "../../../util/ns.ts";
import { xml } from "../../../xml/element.ts";
import type { OutboundEvent, SessionEvent, SmFeature, StanzaEvent } from "../types.ts";
import { advertise } from "./advertise.ts";

const STATUS = "last-status";

export const last: SmFeature = {
  name: "last",
  register(sm) {
    const { api } = sm;
    const started = api.timer.now();
    const seconds = (since: number) =>
      String(Math.max(0, Math.floor((api.timer.now() - since) / 1000)));
    advertise(sm, "host", NS_LAST);
    advertise(sm, "bare", NS_LAST);

    api.hook<StanzaEvent>(`iq-get/host/${NS_LAST}:query`, ({ stanza }) => {
      sm.reply(stanza, xml("query", { xmlns: NS_LAST, seconds: seconds(started) }));
      return true;
    });
    // The dispatcher checked that the owner exists, and answers what this throws.
    const ask = async ({ stanza, to, from }: StanzaEvent) => {
      const owner = to.bareString();
      const asker = from?.bareString();
      if (asker !== owner) {
        const roster = await api.xdb.get(owner, NS_ROSTER);
        const item = roster?.getChildren("item").find((i) => i.attrs.jid === asker);
        const subscription = item?.attrs.subscription;
        if (subscription !== "from" && subscription !== "both") throw new StanzaError("forbidden");
      }
      if (sm.sessions.ofUser(owner).length > 0) {
        return sm.reply(stanza, xml("query", { xmlns: NS_LAST, seconds: "0" }));
      }
      const stored = await api.xdb.get(owner, NS_LAST);
      const stamp = Number(stored?.attrs.stamp);
      if (!stored || !Number.isFinite(stamp)) throw new StanzaError("item-not-found");
      sm.reply(stanza, xml("query", { xmlns: NS_LAST, seconds: seconds(stamp) }, stored.text()));
    };
    api.hook(`iq-get/bare/${NS_LAST}:query`, ask);
    api.hook(`iq-get/self/${NS_LAST}:query`, ask);

    // The status of the unavailable presence that ends a session (§4: "the status text").
    const remember = ({ stanza, origin, to }: OutboundEvent) => {
      if (!to && stanza.attrs.type === "unavailable") {
        origin.data.set(STATUS, stanza.getChildText("status") ?? "");
      }
    };
    api.hook("pre-presence/bare", remember, 100);
    api.hook("pre-presence/host", remember, 100);
    api.hook<SessionEvent>("resource-unbind", ({ session }) => {
      const owner = session.jid.bareString();
      if (sm.sessions.ofUser(owner).some((s) => s !== session)) return;
      const status = String(session.data.get(STATUS) ?? "");
      const stored = xml("query", { xmlns: NS_LAST, stamp: String(api.timer.now()) }, status);
      api.xdb.set(owner, NS_LAST, stored).catch((error) =>
        api.log.warn(`Cannot store the last logout of ${owner}: ${describe(error)}`)
      );
    });
  },
};
