/**
 * Delivery between Deno Deploy isolates (deploy/README.md, docs/runtime-notes.md "Deno KV"). Each
 * isolate keeps in KV a heartbeat `["isolates", id]` and the sessions it holds
 * (`["sessions", bare, resource]`), both with an expiry time refreshed every third of the TTL.
 * What the session manager would hand to a session another live isolate holds is written to
 * that isolate's inbox `["inbox", id, stamp, seq, entryId]` instead, and that isolate hands it to
 * its own sm as arriving (RFC 6121 §8.5 runs there):
 * - messages, presence and iq to a full JID held elsewhere go to its isolate (§8.5.3);
 * - a message or a subscription presence to a bare JID with no session here goes to one isolate
 *   holding sessions of the user (stored, archived, pushed once: §8.5.2, §3);
 * - available, unavailable and error presence and probes to a bare JID go to every isolate
 *   holding sessions of the user, besides those here (§4.3, §8.5.2.1.1).
 * An entry is deleted only after its stanza was handed to an sm and processed (at least once).
 * Entries whose target isolate's heartbeat expired (recycled) are taken over by any live isolate,
 * the next one to start included: claimed in KV, handed to its sm (offline storage catches what
 * has no session any more), then deleted; a taken-over message already in the user's offline
 * store (an earlier taker died between handing and deleting) is not stored twice.
 */
import type {
  Session,
  SessionEvent,
  SmApi,
  SmFeature,
  StanzaEvent,
} from "../src/modules/sm/mod.ts";
import { inbound, type SessionCore } from "../src/modules/sm/dispatch.ts";
import { bareText } from "../src/modules/sm/sessions.ts";
import { StanzaError } from "../src/util/errors.ts";
import { NS_DELAY, NS_OFFLINE, NS_SID } from "../src/util/ns.ts";
import type { Element } from "../src/xml/element.ts";
import { parseFragment } from "../src/xml/stream_parser.ts";

/** Who holds a session, until when (ms since the epoch): `expireIn` is swept lazily. */
interface Owner {
  isolate: string;
  expires: number;
}

/** An isolate's heartbeat: it polls its inbox until `expires`. */
interface Heartbeat {
  expires: number;
}

/** One stanza on its way to another isolate. */
export interface InboxEntry {
  /** Unique per entry: a redelivery carries the same id. */
  id: string;
  /** The stanza as XML text. */
  stanza: string;
  /** The isolate that wrote it. */
  writer: string;
  /** Set by the isolate taking it over from a recycled target, until when it works on it. */
  claim?: { isolate: string; until: number };
}

/** Runs before every feature, so the isolate that delivers is the one that archives, carbons… */
const FIRST = 1000;
/** How often an isolate reads the owners and its inbox. */
export const POLL_MS = 100;
/**
 * The largest stanza that crosses isolates: a KV value is at most 64 KiB (docs/runtime-notes.md),
 * and the entry's other fields need room.
 */
export const MAX_STANZA_BYTES = 60 * 1024;

export interface IsolatesOptions {
  kv: Deno.Kv;
  /** This isolate's id, unique among the running ones. */
  isolate: string;
  /** How long a session's ownership lasts unless refreshed (refreshed every third of it). */
  ttlMs: number;
}

/** Presence types handled once, by the isolate that processes them (RFC 6121 §3). */
const SUBSCRIPTION = new Set(["subscribe", "subscribed", "unsubscribe", "unsubscribed"]);

/** The session manager feature that keeps ownership in KV and forwards through inboxes. */
export function isolatesFeature({ kv, isolate, ttlMs }: IsolatesOptions): SmFeature {
  return {
    name: "isolates",
    async register(sm) {
      const { api } = sm;
      const core = sessionCore(sm);
      const refreshMs = Math.max(1, Math.floor(ttlMs / 3));
      // KV can fail for a moment (a busy SQLite file): logged, the next round tries again.
      const logged = (work: Promise<unknown>) =>
        void work.catch((error) => api.log.warn(`isolates: ${error}`));

      const beat = () =>
        kv.set(["isolates", isolate], { expires: Date.now() + ttlMs } satisfies Heartbeat, {
          expireIn: ttlMs,
        });
      // Alive before any session is bound here, so no entry for this isolate looks orphaned;
      // beating on its own timer, a slow inbox (KV busy) does not make the isolate look gone.
      await beat();
      /** Set once the section stops: no more heartbeats or inbox reads. */
      let stopping = false;
      api.timer.setInterval(() => stopping || logged(beat()), refreshMs);

      const keyOf = (session: Session): Deno.KvKey => [
        "sessions",
        bareText(session.jid),
        session.jid.resource,
      ];
      const own = (session: Session) =>
        logged(
          kv.set(keyOf(session), { isolate, expires: Date.now() + ttlMs } satisfies Owner, {
            expireIn: ttlMs,
          }),
        );
      api.hook<SessionEvent>("resource-bind", ({ session }) => own(session));
      api.hook<SessionEvent>("resource-unbind", ({ session }) => logged(kv.delete(keyOf(session))));
      api.timer.setInterval(() => {
        for (const session of sm.sessions.all()) own(session);
      }, refreshMs);

      /**
       * What KV said at the last poll: the foreign live isolates holding each user's resources. Hooks decide synchronously (a hook's promise means "handled"), so
       * "held elsewhere" must be known without waiting.
       */
      let holders = new Map<string, Map<string, string>>();
      /** Foreign live isolates holding `bare` (its `resource` only, when given), first seen first. */
      const holdersOf = (bare: string, resource?: string): string[] => {
        const resources = holders.get(bare);
        if (!resources) return [];
        if (resource !== undefined) {
          const holder = resources.get(resource);
          return holder ? [holder] : [];
        }
        return [...new Set(resources.values())];
      };

      /** Stanzas handed over from an inbox, which are never forwarded again (no ping-pong). */
      const arrived = new WeakSet<Element>();
      // Writes one after another, so a reader never sees a later entry of ours before an earlier.
      let writing: Promise<unknown> = Promise.resolve();
      let lastStamp = 0;
      let seq = 0;
      const forward = (stanza: Element, targets: string[]): Promise<true> => {
        const text = stanza.toString();
        if (new TextEncoder().encode(text).length > MAX_STANZA_BYTES) {
          return Promise.reject(
            new StanzaError(
              "resource-constraint",
              `A stanza over ${MAX_STANZA_BYTES} bytes cannot reach a session held by another isolate`,
            ),
          );
        }
        lastStamp = Math.max(lastStamp, Date.now());
        const atomic = kv.atomic();
        for (const target of targets) {
          const id = crypto.randomUUID();
          const entry: InboxEntry = { id, stanza: text, writer: isolate };
          // No expiry: an entry leaves KV only once some sm took it (at least once).
          atomic.set(["inbox", target, lastStamp, seq++, id], entry);
        }
        const written = writing.then(() => atomic.commit()).then(({ ok }) => {
          if (!ok) throw new Error("writing an inbox entry failed");
          return true as const;
        });
        writing = written.catch(() => {});
        return written;
      };

      const skip = (event: StanzaEvent) => arrived.has(event.stanza);
      /** Sends a message for a user with no session here to one isolate holding sessions. */
      const toUser = (event: StanzaEvent, bare: string) => {
        if (sm.sessions.ofUser(bare).length > 0) return undefined;
        const [holder] = holdersOf(bare);
        return holder ? forward(event.stanza, [holder]) : undefined;
      };
      // Full JIDs (RFC 6121 §8.5.3): the isolate holding that resource gets the stanza.
      for (const name of ["message/full", "presence/full", "iq/full"]) {
        api.hook<StanzaEvent>(name, (event) => {
          if (skip(event) || sm.sessions.get(event.to.toString())) return undefined;
          const bare = bareText(event.to);
          const [holder] = holdersOf(bare, event.to.resource);
          if (holder) return forward(event.stanza, [holder]);
          // §8.5.3.2.1: a message to a resource nobody holds is treated as sent to the bare
          // JID, which the core does without firing message/bare: where the user's sessions are.
          if (name !== "message/full") return undefined;
          return toUser(event, bare);
        }, FIRST);
      }
      // A message to a bare JID (§8.5.2): processed once, where the user has sessions.
      api.hook<StanzaEvent>("message/bare", (event) => {
        return skip(event) ? undefined : toUser(event, bareText(event.to));
      }, FIRST);
      api.hook<StanzaEvent>("presence/bare", (event) => {
        if (skip(event)) return undefined;
        const bare = bareText(event.to);
        const here = sm.sessions.ofUser(bare).length > 0;
        const elsewhere = holdersOf(bare);
        if (elsewhere.length === 0) return undefined;
        const type = event.stanza.attrs.type;
        if (type !== undefined && SUBSCRIPTION.has(type)) {
          // A roster change: made once, where a session of the user is (here if any).
          return here ? undefined : forward(event.stanza, [elsewhere[0]]);
        }
        // Broadcast, unavailable, error, probe: every isolate delivers to (or answers for) the
        // resources it holds.
        const sent = forward(event.stanza, elsewhere);
        if (!here) return sent;
        logged(sent);
        return undefined;
      }, FIRST);

      /** Hands a stanza to this sm as arriving and resolves once it is processed. */
      const hand = async (stanza: Element, fromInbox: boolean) => {
        if (fromInbox) arrived.add(stanza);
        await inbound(core, stanza);
      };

      /** A message already in its user's offline store, as an earlier taker stored it. */
      const storedOffline = async (stanza: Element): Promise<boolean> => {
        if (stanza.local !== "message" || stanza.attrs.to === undefined) return false;
        const bare = stanza.attrs.to.split("/")[0];
        const stored = await api.xdb.get(bare, NS_OFFLINE);
        const wanted = withoutStamps(stanza);
        return (stored?.getChildren("message") ?? []).some((m) => withoutStamps(m) === wanted);
      };

      /** Takes one entry of this isolate's inbox: handed to the sm, then deleted. */
      const takeOwn = async (entry: Deno.KvEntry<InboxEntry>) => {
        const claim = entry.value.claim;
        // Being taken over: this isolate was thought gone (it stalled past its heartbeat).
        if (claim && claim.isolate !== isolate && claim.until > Date.now()) return;
        const stanza = parsed(entry);
        if (stanza) await hand(stanza, true);
        await kv.delete(entry.key);
      };

      /** The entry's stanza; an entry that cannot be read is logged (and then deleted). */
      const parsed = (entry: Deno.KvEntry<InboxEntry>): Element | undefined => {
        try {
          return parseFragment(entry.value.stanza);
        } catch (error) {
          // It would fail the same way every time and hold up the entries after it.
          api.log.error(`isolates: dropped inbox entry ${entry.value.id}, not a stanza: ${error}`);
          return undefined;
        }
      };

      /** Takes over an entry of a recycled isolate: claimed, handed here, then deleted. */
      const takeOver = async (entry: Deno.KvEntry<InboxEntry>) => {
        const claim = entry.value.claim;
        if (claim && claim.until > Date.now()) return;
        const claimed: InboxEntry = {
          ...entry.value,
          claim: { isolate, until: Date.now() + ttlMs },
        };
        const { ok } = await kv.atomic().check(entry).set(entry.key, claimed).commit();
        if (!ok) return;
        const stanza = parsed(entry);
        // Its target is gone, so its sessions are: this sm may store it offline, or send it on
        // to an isolate where the user logged in since (not marked as arrived).
        if (stanza && !(await storedOffline(stanza))) await hand(stanza, false);
        await kv.delete(entry.key);
        api.log.info(
          `isolates: took over entry ${entry.value.id} of isolate ${String(entry.key[1])}`,
        );
      };

      // Deno KV's watch sees only this process's writes and its queue hands a packet to
      // whichever listener polls first, so each isolate reads its own inbox (docs/runtime-notes.md).
      let lastTakeover = 0;
      const poll = async () => {
        const now = Date.now();
        const live = new Set<string>([isolate]);
        for await (const entry of kv.list<Heartbeat>({ prefix: ["isolates"] })) {
          if (entry.value.expires > now) live.add(entry.key[1] as string);
        }
        const read = new Map<string, Map<string, string>>();
        for await (const entry of kv.list<Owner>({ prefix: ["sessions"] })) {
          const owner = entry.value;
          if (owner.isolate === isolate || owner.expires <= now || !live.has(owner.isolate)) {
            continue;
          }
          const [, bare, resource] = entry.key as [string, string, string];
          let resources = read.get(bare);
          if (!resources) read.set(bare, resources = new Map());
          resources.set(resource, owner.isolate);
        }
        holders = read;
        for await (const entry of kv.list<InboxEntry>({ prefix: ["inbox", isolate] })) {
          await takeOwn(entry);
        }
        if (now - lastTakeover >= refreshMs) {
          lastTakeover = now;
          for await (const entry of kv.list<InboxEntry>({ prefix: ["inbox"] })) {
            if (!live.has(entry.key[1] as string)) await takeOver(entry);
          }
        }
      };
      let polling: Promise<void> | undefined;
      api.timer.setInterval(() => {
        if (polling || stopping) return;
        polling = poll().catch((error) => api.log.warn(`isolates: ${error}`)).finally(() =>
          polling = undefined
        );
      }, POLL_MS);
      // A stopping isolate (SIGTERM under `deno serve`) says so at once: the others stop
      // forwarding to it and take over what is left in its inbox at their next look.
      api.onUnload(async () => {
        stopping = true;
        await polling;
        await kv.delete(["isolates", isolate]);
      });
    },
  };
}

/**
 * The sm as dispatch.ts sees it, so a stanza from an inbox can be processed and awaited (the
 * entry is deleted only then). The `SmApi` a feature gets is the session manager itself.
 */
function sessionCore(sm: SmApi): SessionCore {
  if (typeof (sm as Partial<SessionCore>).deliver !== "function") {
    throw new Error("isolates: the session manager given cannot process stanzas from an inbox");
  }
  return sm as SessionCore;
}

/**
 * A message's text without what the server adds on the way to storage (`<delay>` by offline
 * storage, XEP-0203; `<stanza-id>` by the archive, XEP-0359), to compare stored with arriving.
 */
function withoutStamps(stanza: Element): string {
  const copy = parseFragment(stanza.toString());
  copy.remove("delay", NS_DELAY);
  copy.remove("stanza-id", NS_SID);
  return copy.toString();
}
