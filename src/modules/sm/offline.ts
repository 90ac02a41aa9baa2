/**
 * Offline messages (XEP-0160, RFC 6121 §8.5.2.2.1): a normal or chat message for a user with no
 * available resource is stored under `jabber:x:offline` with a `<delay>` (XEP-0203) saying when
 * the server took it, up to `<offline quota>` messages per user (beyond: `service-unavailable`
 * to the sender), and handed in order to the first session whose available presence has a
 * non-negative priority (the `session-available` event), then deleted.
 */
import type { XdbClient } from "../../server/module_api.ts";
import { describe, StanzaError } from "../../util/errors.ts";
import { NS_CHATSTATES, NS_DELAY, NS_HINTS, NS_OFFLINE } from "../../util/ns.ts";
import { Element } from "../../xml/element.ts";
import { readSmConfig } from "./config.ts";
import { KeyedQueue } from "../../util/keyed_queue.ts";
import type { Session, SessionEvent, SmApi, SmFeature, StanzaEvent } from "./types.ts";

/** Session data key: set once the stored messages went to that session. */
const DELIVERED = "offline";

export interface OfflineStoreOptions {
  xdb: XdbClient;
  quota: number;
  /** The time for the delay stamp (ms since the epoch). */
  now: () => number;
}

/** The stored queue of each user, with one writer at a time per user. */
export class OfflineStore {
  readonly #options: OfflineStoreOptions;
  readonly #queue = new KeyedQueue();

  constructor(options: OfflineStoreOptions) {
    this.#options = options;
  }

  /**
   * Stores a message for `bare`; throws `service-unavailable` when the user's quota is used
   * up. `host` is the `from` of the delay stamp (the server that took the message).
   */
  store(bare: string, host: string, message: Element): Promise<void> {
    return this.#queue.run(bare, async () => {
      const { xdb, quota, now } = this.#options;
      const stored = await xdb.get(bare, NS_OFFLINE);
      if ((stored?.getChildren("message").length ?? 0) >= quota) {
        throw new StanzaError("service-unavailable", "The recipient's offline storage is full");
      }
      const item = message.clone();
      if (item.attrs.to === undefined) item.attrs.to = bare;
      item.append(
        new Element("delay", {
          xmlns: NS_DELAY,
          from: host,
          stamp: new Date(now()).toISOString(),
        }),
      );
      await xdb.insert(bare, NS_OFFLINE, item);
    });
  }

  /** Resolves once no store or delivery is running (the section is stopping). */
  idle(): Promise<void> {
    return this.#queue.idle();
  }

  /** The stored messages of `bare`, oldest first. */
  list(bare: string): Promise<Element[]> {
    return this.#queue.run(bare, async () => {
      const stored = await this.#options.xdb.get(bare, NS_OFFLINE);
      return stored?.getChildren("message") ?? [];
    });
  }

  /**
   * Hands the stored messages to `send` oldest first, then deletes exactly those (a message
   * stored meanwhile by another node stays for next time). `send` returns false to stop: the
   * session went away, and what was not sent stays stored.
   */
  deliver(bare: string, send: (message: Element) => boolean): Promise<number> {
    return this.#queue.run(bare, async () => {
      const { xdb } = this.#options;
      const stored = await xdb.get(bare, NS_OFFLINE);
      const messages = stored?.getChildren("message") ?? [];
      let sent = 0;
      for (const message of messages) {
        if (!send(message)) break;
        sent++;
      }
      // Each remove takes the first stored message: the one delivered first. Issued together,
      // they are committed as one batch by the store.
      await Promise.all(
        Array.from({ length: sent }, () => xdb.remove(bare, NS_OFFLINE, "message")),
      );
      return sent;
    });
  }
}

/** Whether a message is worth keeping (XEP-0334 hints; XEP-0085 §5.6: no bare chat states). */
export function worthStoring(message: Element): boolean {
  if (message.getChild("store", NS_HINTS)) return true;
  if (message.getChild("no-store", NS_HINTS) || message.getChild("no-permanent-store", NS_HINTS)) {
    return false;
  }
  return message.elements.some((child) => child.ns !== NS_CHATSTATES && child.ns !== NS_HINTS);
}

export const offlineFeature: SmFeature = {
  name: "offline",
  register(sm: SmApi) {
    const { api } = sm;
    const quota = readSmConfig(api.config).offlineQuota;
    // Quota 0: no storage; messages for offline users are answered service-unavailable.
    if (quota === 0) return;
    const store = new OfflineStore({ xdb: api.xdb, quota, now: () => api.timer.now() });
    // Messages accepted for storage are written before the section lets XDB go.
    api.onUnload(() => store.idle());
    api.hook<StanzaEvent>("message/offline", (event) => {
      const { stanza, to } = event;
      // Not worth keeping: silently dropped, as a headline would be (§8.5.2.2.3).
      if (!worthStoring(stanza)) return true;
      // The promise covers the store: the sender's next stanza waits for it (ROUTING.md R34),
      // and a full quota rejects with the error the dispatcher answers. Once stored, the
      // `message/offline-stored` hooks (XEP-0357 push) learn of it.
      return store.store(to.bareString(), to.domain, stanza).then(() => {
        api.fire("message/offline-stored", event);
      });
    });
    api.hook<SessionEvent>("session-available", ({ session }) => {
      if (!session.available || session.priority < 0 || session.data.has(DELIVERED)) return;
      session.data.set(DELIVERED, true);
      deliverTo(sm, store, session).catch((error) =>
        api.log.error(`Failed to deliver offline messages to ${session.jid}: ${describe(error)}`)
      );
      // Undefined: a lifecycle event goes on to every hook.
      return undefined;
    });
  },
};

function deliverTo(sm: SmApi, store: OfflineStore, session: Session): Promise<number> {
  const full = session.jid.toString();
  return store.deliver(session.jid.bareString(), (message) => {
    if (sm.sessions.get(full) !== session) return false;
    sm.sendToSession(session, message);
    return true;
  });
}
