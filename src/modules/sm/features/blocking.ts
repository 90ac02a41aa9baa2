/**
 * XEP-0191 Blocking Command: the blocklist (get, block, unblock, unblock all; stored as
 * `<item jid/>` under ns `urn:xmpp:blocking`), pushes to the resources that asked for it (§3.2),
 * and enforcement: stanzas from a blocked JID are not delivered (message and iq get/set answered
 * service-unavailable, presence dropped: §3.5), and a user's stanza to a blocked JID is refused
 * with not-acceptable and `<blocked xmlns="urn:xmpp:blocking:errors"/>` (§3.6). Matching follows
 * XEP-0016 §2.1: full JID, bare JID, domain/resource, domain. Other features (presence
 * broadcast) ask with `api.fire("is-blocked", { user, jid })`, which answers true when blocked.
 */
import { xdbMatch } from "../../../server/xdb_client.ts";
import { describe, errorReply, StanzaError } from "../../../util/errors.ts";
import { JID } from "../../../util/jid.ts";
import { NS_BLOCKING, NS_BLOCKING_ERRORS } from "../../../util/ns.ts";
import { type Element, xml } from "../../../xml/element.ts";
import type { OutboundEvent, SessionEvent, SmFeature, StanzaEvent } from "../types.ts";
import { bareText } from "../sessions.ts";
import { advertise } from "./advertise.ts";

const INTERESTED = "blocklist-interested";

/** The blocklist entries that would block `jid` (XEP-0016 §2.1 order). */
export function candidates(jid: JID): string[] {
  const list = [jid.toString(), jid.bareString()];
  if (jid.resource) list.push(`${jid.domain}/${jid.resource}`);
  list.push(jid.domain);
  return [...new Set(list)];
}

export interface BlockedQuery {
  user: string;
  jid: string;
}

export const blocking: SmFeature = {
  name: "blocking",
  register(sm) {
    const { api } = sm;
    /** Blocklists of users with sessions (loaded at bind); others are read per stanza. */
    const lists = new Map<string, Set<string> | Promise<Set<string>>>();
    const load = (owner: string) =>
      api.xdb.get(owner, NS_BLOCKING).then((stored) =>
        new Set(stored?.getChildren("item").map((i) => i.attrs.jid ?? "") ?? [])
      );
    const isBlocked = (list: Set<string>, jid: JID | undefined) =>
      jid !== undefined && list.size > 0 && candidates(jid).some((c) => list.has(c));
    advertise(sm, "bare", NS_BLOCKING);
    // XEP-0191 §3.1: clients discover support by asking the server itself.
    advertise(sm, "host", NS_BLOCKING);

    api.hook<SessionEvent>("resource-bind", ({ session }) => {
      const owner = session.jid.bareString();
      if (lists.has(owner)) return;
      const loading = load(owner);
      lists.set(owner, loading);
      loading.then((list) => lists.get(owner) === loading && lists.set(owner, list))
        .catch((error) =>
          api.log.warn(`Cannot read the blocklist of ${owner}: ${describe(error)}`)
        );
    });
    api.hook<SessionEvent>("resource-unbind", ({ session }) => {
      const owner = session.jid.bareString();
      if (!sm.sessions.ofUser(owner).some((s) => s !== session)) lists.delete(owner);
    });
    api.hook<BlockedQuery>("is-blocked", ({ user, jid }) => {
      const list = lists.get(user);
      return list instanceof Set && isBlocked(list, JID.tryParse(jid)) ? true : undefined;
    });

    // --- the protocol (§3.1–3.4); the dispatcher answers what the hooks throw ---
    const push = (owner: string, payload: Element) => {
      for (const session of sm.sessions.ofUser(owner)) {
        if (!session.data.get(INTERESTED)) continue;
        const iq = xml("iq", { type: "set", id: `push-${crypto.randomUUID()}` }, payload.clone());
        iq.attrs.to = session.jid.toString();
        sm.sendToSession(session, iq);
      }
    };
    const jidsOf = (command: Element) =>
      command.getChildren("item").map((item) => {
        const jid = JID.tryParse(item.attrs.jid ?? "");
        if (!jid) throw new StanzaError("jid-malformed", `"${item.attrs.jid}" is not a JID`);
        return jid.toString();
      });
    api.hook<StanzaEvent>(
      `iq-get/self/${NS_BLOCKING}:blocklist`,
      async ({ stanza, origin, to }) => {
        origin!.data.set(INTERESTED, true);
        const items = [...await load(to.bareString())].map((jid) => xml("item", { jid }));
        sm.reply(stanza, xml("blocklist", { xmlns: NS_BLOCKING }, ...items));
      },
    );
    const change = async ({ stanza, to }: StanzaEvent, block: boolean) => {
      const owner = to.bareString();
      const command = stanza.getChild(block ? "block" : "unblock", NS_BLOCKING)!;
      const jids = jidsOf(command);
      if (block && jids.length === 0) throw new StanzaError("bad-request", "Block whom?");
      if (!block && jids.length === 0) await api.xdb.set(owner, NS_BLOCKING, undefined);
      for (const jid of jids) {
        const match = xdbMatch("item", { jid });
        if (block) await api.xdb.insert(owner, NS_BLOCKING, xml("item", { jid }), match);
        else await api.xdb.remove(owner, NS_BLOCKING, match);
      }
      if (lists.has(owner)) lists.set(owner, await load(owner));
      sm.reply(stanza);
      const items = jids.map((jid) => xml("item", { jid }));
      push(owner, xml(command.local, { xmlns: NS_BLOCKING }, ...items));
    };
    api.hook<StanzaEvent>(`iq-set/self/${NS_BLOCKING}:block`, (event) => change(event, true));
    api.hook<StanzaEvent>(`iq-set/self/${NS_BLOCKING}:unblock`, (event) => change(event, false));

    // --- enforcement on stanzas arriving for a user (§3.5) ---
    /** Events already let through after their owner's blocklist was read: fired again. */
    const checked = new WeakSet<StanzaEvent>();
    const refuse = ({ stanza, from }: StanzaEvent, list: Set<string>) => {
      if (!isBlocked(list, from)) return false;
      if (stanza.name !== "presence") throw new StanzaError("service-unavailable");
      return true;
    };
    const inbound = (name: string) => (event: StanzaEvent) => {
      const owner = bareText(event.to);
      if (checked.has(event) || (event.origin && bareText(event.origin.jid) === owner)) return;
      const list = lists.get(owner);
      if (list instanceof Set) return refuse(event, list) ? true : undefined;
      // Not loaded yet (a user without sessions): read it, then run the event again. The
      // promise covers the read, the event's hooks and what they wait for (the offline store),
      // so the sender's next stanza waits for all of it (ROUTING.md R34). Every event hooked here
      // has a default hook that takes it, or (presence/bare) nothing that would answer.
      return (list ?? load(owner)).then((loaded) => {
        if (refuse(event, loaded)) return true;
        checked.add(event);
        return api.fire(name, event) ?? true;
      });
    };
    for (
      const name of ["message/bare", "message/full", "presence/bare", "presence/full", "iq/full"]
    ) {
      api.hook(name, inbound(name), 500);
    }

    // --- enforcement on stanzas a user sends (§3.6) ---
    const refuseOutbound = ({ stanza, origin, to }: OutboundEvent, list: Set<string>) => {
      if (!isBlocked(list, to)) return false;
      if (stanza.name === "presence") return true;
      const reply = errorReply(stanza, new StanzaError("not-acceptable"));
      if (reply) {
        reply.getChild("error")!.append(xml("blocked", { xmlns: NS_BLOCKING_ERRORS }));
        sm.sendToSession(origin, reply);
      }
      return true;
    };
    const outbound = (event: OutboundEvent) => {
      // While the list still loads (the session just bound) nothing is refused: waiting here
      // would end the event for the other pre- hooks (presence, carbons).
      const list = lists.get(bareText(event.origin.jid));
      return list instanceof Set && refuseOutbound(event, list) ? true : undefined;
    };
    for (const name of ["message", "presence", "iq"]) {
      for (const kind of ["bare", "full", "host"]) api.hook(`pre-${name}/${kind}`, outbound, 500);
    }
  },
};
