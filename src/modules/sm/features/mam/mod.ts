/**
 * XEP-0313 Message Archive Management (`urn:xmpp:mam:2`, with `#extended`: before-id, after-id,
 * ids, flip-page and metadata) and XEP-0359 stanza ids: every one-to-one message a local user
 * sends or receives (delivered, or stored offline) is archived for that user, per their §6
 * preferences, under an id that the server stamps on the message it delivers as
 * `<stanza-id by="user@host" id="…"/>`, and on the `sent` carbon (XEP-0280) of a message the
 * user sent. Stanza ids a sender forged with one of our users as `by` are removed (XEP-0359
 * §3.1). Archive writes go out in the background, batched by XDB (src/mam/archive.ts); a
 * retention sweep deletes messages older than `<mam retention>`.
 *
 * Settings: `<mam default="always|never|roster" retention="30d" sweep="1h" page="50"
 * max-page="250" max-unwritten="5000"/>` in `<sm>`; a retention of 0 keeps messages forever.
 * `max-unwritten` bounds the archive writes waiting for the store: above it, messages wait
 * before any hook sees them (backpressure, ROUTING.md R34), instead of memory growing.
 * `write-delay` (default 0: after each turn of the event loop, while no request is in flight)
 * lets archive writes gather longer into one XDB request and one KV commit; a query of the
 * archive does not wait for it. 5ms measured no gain on a loaded machine, so it is off.
 */
import { duration, integer, oneOf, options } from "../../../../config/options.ts";
import { xdbMatch } from "../../../../server/xdb_client.ts";
import { describe } from "../../../../util/errors.ts";
import type { JID } from "../../../../util/jid.ts";
import {
  NS_HINTS,
  NS_MAM,
  NS_MAM_EXTENDED,
  NS_MAM_OWNERS,
  NS_ROSTER,
  NS_SID,
} from "../../../../util/ns.ts";
import { type Element, xml } from "../../../../xml/element.ts";
import type {
  OutboundEvent,
  SessionEvent,
  SmFeature,
  StanzaEvent,
  UserEvent,
} from "../../types.ts";
import { advertise } from "../advertise.ts";
import { CARBON_SENT } from "../carbons.ts";
import {
  Archive,
  idAt,
  IdMaker,
  queryAnswer,
  queryForm,
  readQuery,
  stripStanzaIds,
} from "../../../../mam/mod.ts";
import { bareText } from "../../sessions.ts";
import { archives, type Prefs, prefsElement, readPrefs } from "./prefs.ts";

export const MAM = options({
  default: oneOf(["always", "never", "roster"], "always"),
  retention: duration(0),
  sweep: duration(3_600_000, { positive: true }),
  page: integer(50, { min: 1, max: 1000 }),
  "max-page": integer(250, { min: 1, max: 1000 }),
  "max-unwritten": integer(5000, { min: 1, max: 1_000_000 }),
  "write-delay": duration(0),
});

/**
 * Set on an event whose message this feature stamped, since other features fire an event again
 * (the blocklist read, the archive's backpressure): a mark on the event, not a `WeakSet` of
 * stanzas, because a weak collection that takes a key per message makes every scavenge slow
 * (docs/runtime-notes.md, "Garbage collection").
 */
const STAMPED = Symbol("mam: stamped");
type Stamped = { [STAMPED]?: true };
/** Payloads worth archiving without a body: end-to-end encrypted messages, invitations. */
const ARCHIVED_PAYLOADS: readonly [string, string][] = [
  ["encrypted", "eu.siacs.conversations.axolotl"],
  ["encrypted", "urn:xmpp:omemo:2"],
  ["openpgp", "urn:xmpp:openpgp:0"],
  ["x", "jabber:x:conference"],
];
/** Archives never hold carbons, archive results or anything larger than one KV value. */
const NOT_ARCHIVED: readonly [string, string][] = [
  ["received", "urn:xmpp:carbons:2"],
  ["sent", "urn:xmpp:carbons:2"],
  ["result", NS_MAM],
  ["no-store", NS_HINTS],
  ["no-permanent-store", NS_HINTS],
];
const SUBSCRIPTION = new Set(["subscribe", "subscribed", "unsubscribe", "unsubscribed"]);
/** How many users' preferences stay in memory. */
const MAX_POLICIES = 10_000;

/** XEP-0313 §5.1 business rules, as Prosody applies them: one-to-one messages with content. */
export function archivable(message: Element): boolean {
  const type = message.attrs.type ?? "normal";
  if (type !== "chat" && type !== "normal") return false;
  if (NOT_ARCHIVED.some(([name, ns]) => message.getChild(name, ns))) return false;
  if (message.getChild("store", NS_HINTS)) return true;
  return message.getChild("body") !== undefined ||
    ARCHIVED_PAYLOADS.some(([name, ns]) => message.getChild(name, ns));
}

/** A user's archiving policy: their preferences and, for `roster`, who is in their roster. */
interface Policy {
  prefs: Prefs;
  roster: Set<string>;
  /** True when nothing is archived (default never, no always list): hooks stop at once. */
  never: boolean;
}

export const mam: SmFeature = {
  name: "mam",
  settings: ["mam"],
  validate(setting, context) {
    MAM.validate(setting, context);
  },
  register(sm) {
    const { api } = sm;
    const settings = MAM.read(api.config.getChild("mam"));
    const limits = { page: settings.page, maxPage: settings["max-page"] };
    const ids = new IdMaker();
    const archive = new Archive(api.xdb, (what, error) => {
      api.log.warn(`Cannot write the archive (${what}): ${describe(error)}`);
    }, {
      maxQueued: settings["max-unwritten"],
      delayMs: settings["write-delay"],
      timer: api.timer,
    });
    api.onUnload(() => archive.idle());

    advertise(sm, "bare", NS_MAM, NS_MAM_EXTENDED);
    advertise(sm, "host", NS_SID);

    // --- preferences, kept in memory for users with sessions and recent correspondents ---
    const policies = new Map<string, Policy | Promise<Policy>>();
    const loadPolicy = (owner: string): Policy | Promise<Policy> => {
      const known = policies.get(owner);
      if (known) return known;
      const loading = (async (): Promise<Policy> => {
        let prefs: Prefs;
        try {
          prefs = readPrefs(await api.xdb.get(owner, NS_MAM), settings.default);
        } catch (error) {
          api.log.warn(`Cannot read the archiving preferences of ${owner}: ${describe(error)}`);
          prefs = readPrefs(undefined, settings.default);
        }
        const roster = new Set<string>();
        if (prefs.default === "roster") {
          const stored = await api.xdb.get(owner, NS_ROSTER).catch(() => undefined);
          for (const item of stored?.getChildren("item") ?? []) {
            if (item.attrs.jid) roster.add(item.attrs.jid);
          }
        }
        return { prefs, roster, never: prefs.default === "never" && prefs.always.size === 0 };
      })();
      policies.set(owner, loading);
      loading.then((policy) => {
        if (policies.get(owner) === loading) policies.set(owner, policy);
      });
      if (policies.size > MAX_POLICIES) {
        const oldest = policies.keys().next().value!;
        if (sm.sessions.ofUser(oldest).length === 0) policies.delete(oldest);
      }
      return loading;
    };
    const loaded = (owner: string): Policy | undefined => {
      const policy = policies.get(owner);
      return policy instanceof Promise ? undefined : policy;
    };
    const forget = (owner: string) => policies.delete(owner);
    api.hook<SessionEvent>("resource-bind", ({ session }) => {
      const owner = bareText(session.jid);
      const loading = loadPolicy(owner);
      if (loading instanceof Promise) archive.track(owner, loading);
    });
    // A roster change can change what `roster` archives: read the policy again when needed.
    api.hook<StanzaEvent>(`iq-set/self/${NS_ROSTER}:query`, ({ to }) => {
      forget(to.bareString());
    }, 1000);
    api.hook<StanzaEvent>("presence/bare", ({ stanza, to }) => {
      if (SUBSCRIPTION.has(stanza.attrs.type ?? "")) forget(to.bareString());
    }, 1000);

    // --- the registry of archive owners per host, for the retention sweep ---
    const registered = new Set<string>();
    const register = (owner: string, jid: JID) => {
      if (settings.retention === 0 || registered.has(owner)) return;
      registered.add(owner);
      const entry = xml("owner", { jid: owner });
      archive.track(
        owner,
        api.xdb.insert(jid.domain, NS_MAM_OWNERS, entry, xdbMatch("owner", { jid: owner })),
      );
    };

    /** Archives for `owner` if their policy says so; answers the archive id. */
    const archiveFor = (owner: JID, peer: JID, stanza: Element, policy: Policy) => {
      const bare = bareText(owner);
      const peerBare = bareText(peer);
      if (!archives(policy.prefs, peerBare, () => policy.roster.has(peerBare))) return undefined;
      if (!archive.fits(stanza)) {
        api.log.debug(`Did not archive a message of ${bare}: too large`);
        return undefined;
      }
      const now = api.timer.now();
      const id = ids.next(now);
      archive.add(bare, id, peer, stanza, now);
      register(bare, owner);
      return id;
    };

    // --- messages arriving for a user: archived, then stamped before carbons and delivery ---
    const load = (name: string) => (event: StanzaEvent) => {
      const { stanza, to } = event;
      if ((event as Stamped)[STAMPED]) return;
      const owner = bareText(to);
      stripStanzaIds(stanza, owner);
      if (loaded(owner) || !archivable(stanza)) return;
      // The owner's preferences are not in memory (no session): read them, then handle the
      // event again from the top. The promise covers the delivery or offline storage the event
      // leads to, so the sender's next stanza waits for it (ROUTING.md R34).
      return Promise.resolve(loadPolicy(owner)).then(() => api.fire(name, event) ?? true);
    };
    const stamp = (event: StanzaEvent) => {
      const { stanza, to, from } = event;
      if (!from) return;
      const policy = loaded(bareText(to));
      // Not in memory: forgotten again meanwhile, delivered unarchived. Archiving nothing: no
      // need to look into the message at all.
      if (!policy || policy.never) return;
      if ((event as Stamped)[STAMPED] || !archivable(stanza)) return;
      (event as Stamped)[STAMPED] = true;
      const id = archiveFor(to, from, stanza, policy);
      // XEP-0359 §3: the delivered message carries the id the recipient's archive knows it by.
      if (id) stanza.append(xml("stanza-id", { xmlns: NS_SID, by: bareText(to), id }));
    };
    for (const name of ["message/bare", "message/full"]) {
      // Above blocking (500), which fires the event again after reading its own list.
      api.hook(name, load(name), 1000);
    }
    // Below blocking (500), above carbons (10), so that carbons copy the stamped message.
    for (const name of ["message/bare", "message/full"]) api.hook(name, stamp, 20);

    // --- messages a user sends: archived for the sender, the id told to their sent carbons ---
    const sentIds = new WeakMap<Element, { by: string; id: string }>();
    const outbound = ({ stanza, to, origin }: OutboundEvent) => {
      const owner = bareText(origin.jid);
      stripStanzaIds(stanza, owner);
      // To oneself: archived once, as it arrives.
      if (!to || to.local === "" || bareText(to) === owner) return;
      const policy = loaded(owner);
      if (policy?.never || !archivable(stanza)) return;
      if (policy) {
        const id = archiveFor(origin.jid, to, stanza, policy);
        // Only a user with another session can get a sent carbon to tell the id to.
        if (id && sm.sessions.ofUser(owner).length > 1) sentIds.set(stanza, { by: owner, id });
        return;
      }
      // The preferences of a session that just bound are still loading: archive once they are
      // read, without holding the message back (its carbons then carry no stanza-id).
      const copy = stanza.clone();
      archive.track(
        owner,
        Promise.resolve(loadPolicy(owner)).then((read) => {
          archiveFor(origin.jid, to, copy, read);
        }),
      );
    };
    for (const kind of ["bare", "full"]) api.hook(`pre-message/${kind}`, outbound, 20);

    // --- backpressure: too many archive writes unwritten hold messages back ---
    // First of all hooks, so that nothing ran yet when the event is fired again once the
    // archive has room: a session's next stanza waits for this one (ROUTING.md R34), so a
    // sender faster than the store is slowed down instead of the backlog growing in memory.
    // `goOn` is what the event answers when no hook takes it again (pre-…: route it on).
    const gate = (name: string, goOn: boolean) => (event: StanzaEvent | OutboundEvent) => {
      if (!archive.full) return;
      return archive.room().then(() => api.fire(name, event) ?? goOn);
    };
    for (const kind of ["bare", "full"]) {
      api.hook(`pre-message/${kind}`, gate(`pre-message/${kind}`, false), 10_000);
      api.hook(`message/${kind}`, gate(`message/${kind}`, true), 10_000);
    }
    api.hook<{ original: Element; copy: Element }>(CARBON_SENT, ({ original, copy }) => {
      const sent = sentIds.get(original);
      if (sent) copy.append(xml("stanza-id", { xmlns: NS_SID, ...sent }));
    });

    // --- the protocol: preferences (§6), queries (§4), form fields (§5.1), metadata (§7) ---
    api.hook<StanzaEvent>(`iq-get/self/${NS_MAM}:prefs`, async ({ stanza, to }) => {
      const policy = await loadPolicy(to.bareString());
      sm.reply(stanza, prefsElement(policy.prefs));
    });
    api.hook<StanzaEvent>(`iq-set/self/${NS_MAM}:prefs`, async ({ stanza, to }) => {
      const owner = to.bareString();
      const prefs = readPrefs(stanza.getChild("prefs", NS_MAM), settings.default);
      await api.xdb.set(owner, NS_MAM, prefsElement(prefs));
      forget(owner);
      await loadPolicy(owner);
      sm.reply(stanza, prefsElement(prefs));
    });
    api.hook<StanzaEvent>(`iq-get/self/${NS_MAM}:query`, ({ stanza }) => {
      sm.reply(stanza, queryForm());
      return true;
    });
    api.hook<StanzaEvent>(`iq-set/self/${NS_MAM}:query`, async ({ stanza, to, origin }) => {
      const query = readQuery(stanza.getChild("query", NS_MAM)!);
      const owner = to.bareString();
      const page = await archive.page(owner, query, limits);
      const { messages, fin } = queryAnswer(query, page, owner, origin!.jid.toString());
      for (const message of messages) sm.sendToSession(origin!, message);
      sm.reply(stanza, fin);
    });
    api.hook<StanzaEvent>(`iq-get/self/${NS_MAM}:metadata`, async ({ stanza, to }) => {
      const { first, last } = await archive.bounds(to.bareString());
      const metadata = xml("metadata", { xmlns: NS_MAM });
      if (first && last) {
        metadata.append(
          xml("start", { id: first.id, timestamp: first.stamp }),
          xml("end", { id: last.id, timestamp: last.stamp }),
        );
      }
      sm.reply(stanza, metadata);
    });

    // --- retention ---
    api.hook<UserEvent>("user-deleted", ({ jid }) => {
      const owner = jid.bareString();
      forget(owner);
      archive.track(owner, archive.trim(owner));
      archive.track(owner, api.xdb.set(owner, NS_MAM, undefined));
    });
    if (settings.retention > 0) {
      const sweep = async () => {
        const end = idAt(api.timer.now() - settings.retention);
        const hosts = new Set([...registered].map((owner) => owner.split("@")[1]));
        for (const host of api.hosts) if (!host.includes("*")) hosts.add(host);
        for (const host of hosts) {
          const owners = await api.xdb.get(host, NS_MAM_OWNERS);
          for (const entry of owners?.getChildren("owner") ?? []) {
            const owner = entry.attrs.jid;
            if (owner) await archive.trim(owner, end);
          }
        }
      };
      let running: Promise<void> | undefined;
      api.timer.setInterval(() => {
        running ??= sweep().catch((error) => {
          api.log.warn(`The archive retention sweep failed: ${describe(error)}`);
        }).finally(() => running = undefined);
      }, settings.sweep);
      api.onUnload(() => running);
    }
  },
};
