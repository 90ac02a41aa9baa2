/**
 * Delivery between Deno Deploy isolates (docs/runtime-notes.md, Deno KV): each isolate records
 * the sessions it holds in KV (`["sessions", bare, resource]` → owner and expiry, refreshed by a
 * timer), and a message for a user whose sessions another live isolate holds is written to
 * that isolate's inbox in KV instead of being delivered or stored here (RFC 6121 §8.5.2, §8.5.3 there).
 */
import type { Session, SessionEvent, SmFeature, StanzaEvent } from "../src/modules/sm/mod.ts";
import { bareText } from "../src/modules/sm/sessions.ts";
import { parseFragment } from "../src/xml/stream_parser.ts";

/** Who holds a session, until when (ms since the epoch): `expireIn` is swept lazily. */
interface Owner {
  isolate: string;
  expires: number;
}

/** Runs before every feature, so the isolate that delivers is the one that archives, carbons… */
const FIRST = 1000;
/** How often an isolate reads the owners and its inbox. */
const POLL_MS = 100;

export interface IsolatesOptions {
  kv: Deno.Kv;
  /** This isolate's id, unique among the running ones. */
  isolate: string;
  /** How long a session's ownership lasts unless refreshed (refreshed every third of it). */
  ttlMs: number;
}

/** The session manager feature that keeps ownership in KV and forwards through inboxes. */
export function isolatesFeature({ kv, isolate, ttlMs }: IsolatesOptions): SmFeature {
  return {
    name: "isolates",
    register(sm) {
      const { api } = sm;
      // KV can fail for a moment (a busy SQLite file): logged, the next round tries again.
      const logged = (work: Promise<unknown>) =>
        void work.catch((error) => api.log.warn(`isolates: ${error}`));
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
      const live = (owner: Owner | null): owner is Owner =>
        owner !== null && owner.expires > Date.now();

      api.hook<SessionEvent>("resource-bind", ({ session }) => own(session));
      api.hook<SessionEvent>("resource-unbind", ({ session }) => logged(kv.delete(keyOf(session))));
      api.timer.setInterval(() => {
        for (const session of sm.sessions.all()) own(session);
      }, Math.max(1, Math.floor(ttlMs / 3)));

      /**
       * The sessions every isolate holds, as last read from KV: hooks decide synchronously (a
       * hook's promise ends the event, so "not mine" must be known without waiting).
       */
      let owners: [key: Deno.KvKey, owner: Owner][] = [];
      /** Puts the stanza in the inbox of the first live foreign owner among the keys chosen. */
      const forward = (event: StanzaEvent, chosen: (key: Deno.KvKey) => boolean) => {
        const found = owners.find(([key, owner]) =>
          chosen(key) && live(owner) && owner.isolate !== isolate
        );
        if (!found) return undefined;
        const slot = ["inbox", found[1].isolate, Date.now(), crypto.randomUUID()];
        // Should that isolate not take it within two lifetimes of ownership (recycled), it
        // comes back here and goes to the sm as for an offline user.
        api.timer.setTimeout(() => logged(take(slot)), ttlMs * 2);
        return kv.set(slot, event.stanza.toString(), { expireIn: 10 * ttlMs }).then(() => true);
      };
      /** Removes an inbox entry and delivers it here, unless another isolate took it first. */
      const take = async (slot: Deno.KvKey) => {
        const entry = await kv.get<string>(slot);
        if (entry.value === null) return;
        const { ok } = await kv.atomic().check(entry).delete(slot).commit();
        if (ok) api.deliver(parseFragment(entry.value));
      };
      api.hook<StanzaEvent>("message/bare", (event) => {
        const bare = bareText(event.to);
        if (sm.sessions.ofUser(bare).length > 0) return undefined;
        return forward(event, (key) => key[1] === bare);
      }, FIRST);
      api.hook<StanzaEvent>("message/full", (event) => {
        if (sm.sessions.get(event.to.toString())) return undefined;
        const [bare, resource] = [bareText(event.to), event.to.resource];
        return forward(event, (key) => key[1] === bare && key[2] === resource);
      }, FIRST);

      // Deno KV's watch sees only this process's writes and its queue hands a packet to
      // whichever listener polls first, so each isolate reads its own inbox (docs/runtime-notes.md).
      let polling = false;
      const poll = async () => {
        try {
          const read: typeof owners = [];
          for await (const entry of kv.list<Owner>({ prefix: ["sessions"] })) {
            read.push([entry.key, entry.value]);
          }
          owners = read;
          for await (const entry of kv.list<string>({ prefix: ["inbox", isolate] })) {
            await take(entry.key);
          }
        } finally {
          polling = false;
        }
      };
      api.timer.setInterval(() => {
        if (polling) return;
        polling = true;
        logged(poll());
      }, POLL_MS);
    },
  };
}
