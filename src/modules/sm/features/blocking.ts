/**
 * XEP-0191 Blocking Command: the blocklist (get, block, unblock, unblock all; stored as
 * `<item jid/>` under ns `urn:xmpp:blocking`), pushes to the resources that asked for it (§3.2),
 * and enforcement: stanzas from a blocked JID are not delivered (message and iq get/set answered
 * service-unavailable, presence dropped: §3.5), and a user's stanza to a blocked JID is refused
 * with not-acceptable and `<blocked xmlns="urn:xmpp:blocking:errors"/>` (§3.6). Matching follows
 * XEP-0016 §2.1: full JID, bare JID, domain/resource, domain. Other features (presence
 * broadcast) ask with `api.fire("is-blocked", { user, jid })`, which answers true when blocked.
 */
import { errorReply, StanzaError } from "../../../util/errors.ts";
import { JID } from "../../../util/jid.ts";
import { NS_BLOCKING, NS_BLOCKING_ERRORS } from "../../../util/ns.ts";
import { type Element, xml } from "../../../xml/element.ts";
import type { SessionEvent, SmFeature, StanzaEvent } from "../types.ts";
import { advertise } from "./advertise.ts";

const INTERESTED = "blocklist-interested";

/** The blocklist entries that would block `jid` (XEP-0016 §2.1 order). */
export function candidates(jid: string): string[] {
  const parsed = JID.tryParse(jid);
  if (!parsed) return [jid];
  const list = [parsed.toString(), parsed.bareString()];
  if (parsed.resource) list.push(`${parsed.domain}/${parsed.resource}`);
  list.push(parsed.domain);
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
    const isBlocked = (list: Set<string>, jid: string | undefined) =>
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
        .catch((error) => api.log.warn(`Cannot read the blocklist of ${owner}: ${error}`));
    });
    api.hook<SessionEvent>("resource-unbind", ({ session }) => {
      const owner = session.jid.bareString();
      if (!sm.sessions.ofUser(owner).some((s) => s !== session)) lists.delete(owner);
    });
    api.hook<BlockedQuery>("is-blocked", ({ user, jid }) => {
      const list = lists.get(user);
      return list instanceof Set && isBlocked(list, jid) ? true : undefined;
    });

    // --- the protocol (§3.1–3.4) ---
    const fail = (stanza: Element) => (error: unknown) => {
      if (!(error instanceof StanzaError)) api.log.error(`Blocking failed: ${error}`);
      sm.replyError(
        stanza,
        error instanceof StanzaError ? error : new StanzaError("internal-server-error"),
      );
    };
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
    api.hook<StanzaEvent>(`iq-get/self/${NS_BLOCKING}:blocklist`, ({ stanza, origin }) => {
      const owner = origin!.jid.bareString();
      origin!.data.set(INTERESTED, true);
      load(owner).then((list) => {
        const items = [...list].map((jid) => xml("item", { jid }));
        sm.reply(stanza, xml("blocklist", { xmlns: NS_BLOCKING }, ...items));
      }).catch(fail(stanza));
      return true;
    });
    const change = (stanza: Element, owner: string, block: boolean) =>
      (async () => {
        const command = stanza.getChild(block ? "block" : "unblock", NS_BLOCKING)!;
        const jids = jidsOf(command);
        if (block && jids.length === 0) throw new StanzaError("bad-request", "Block whom?");
        if (!block && jids.length === 0) await api.xdb.set(owner, NS_BLOCKING, undefined);
        for (const jid of jids) {
          const match = `item?jid=${jid.replace(/[%&=]/g, encodeURIComponent)}`;
          if (block) await api.xdb.insert(owner, NS_BLOCKING, xml("item", { jid }), match);
          else await api.xdb.remove(owner, NS_BLOCKING, match);
        }
        if (lists.has(owner)) lists.set(owner, await load(owner));
        sm.reply(stanza);
        const items = jids.map((jid) => xml("item", { jid }));
        push(owner, xml(command.local, { xmlns: NS_BLOCKING }, ...items));
      })().catch(fail(stanza));
    api.hook<StanzaEvent>(`iq-set/self/${NS_BLOCKING}:block`, ({ stanza, origin }) => {
      change(stanza, origin!.jid.bareString(), true);
      return true;
    });
    api.hook<StanzaEvent>(`iq-set/self/${NS_BLOCKING}:unblock`, ({ stanza, origin }) => {
      change(stanza, origin!.jid.bareString(), false);
      return true;
    });

    // --- enforcement on stanzas arriving for a user (§3.5) ---
    const checked = new WeakSet<StanzaEvent>();
    const inbound = (event: string) => (data: StanzaEvent) => {
      const { stanza, origin } = data;
      const owner = stanza.attrs.to?.replace(/\/.*$/, "");
      if (!owner || checked.has(data) || origin?.jid.bareString() === owner) return;
      const list = lists.get(owner);
      if (list instanceof Set) return refuse(stanza, list) ? true : undefined;
      // Not loaded yet (a user without sessions): read it, then run the event again.
      (list ?? load(owner)).then((loaded) => {
        checked.add(data);
        if (refuse(stanza, loaded)) return;
        const taken = api.fire(event, data);
        if (
          taken === undefined && stanza.name === "iq" && /^(get|set)$/.test(stanza.attrs.type ?? "")
        ) {
          sm.replyError(stanza, new StanzaError("service-unavailable"));
        }
      }).catch(fail(stanza));
      return true;
    };
    const refuse = (stanza: Element, list: Set<string>) => {
      if (!isBlocked(list, stanza.attrs.from)) return false;
      if (stanza.name !== "presence") sm.replyError(stanza, new StanzaError("service-unavailable"));
      return true;
    };
    for (
      const event of ["message/bare", "message/full", "presence/bare", "presence/full", "iq/full"]
    ) {
      api.hook(event, inbound(event), 500);
    }

    // --- enforcement on stanzas a user sends (§3.6) ---
    const outbound = ({ stanza, origin }: StanzaEvent) => {
      const list = origin && lists.get(origin.jid.bareString());
      if (!(list instanceof Set) || !isBlocked(list, stanza.attrs.to)) return;
      if (stanza.name === "presence") return true;
      const reply = errorReply(stanza, new StanzaError("not-acceptable"));
      if (reply) {
        reply.getChild("error")!.append(xml("blocked", { xmlns: NS_BLOCKING_ERRORS }));
        sm.sendToSession(origin!, reply);
      }
      return true;
    };
    for (const name of ["message", "presence", "iq"]) {
      for (const kind of ["bare", "full", "host"]) api.hook(`pre-${name}/${kind}`, outbound, 500);
    }
  },
};
