/**
 * The session manager in a farm (docs/farm.md, ROUTING.md R41, R42, R45): every session of one
 * bare JID lives on one node, its home, so bare-JID delivery, priorities, carbons, roster pushes
 * and resource conflicts work as on one node. A route or stanza for a user with no session here
 * whose home is another live node goes there in one hop; the first session of a user with no
 * home claims it here; the last one ending releases it. Without a `<farm>` offer none of this
 * exists: `farmHomes` answers undefined once, at register.
 */
import { FARM, type Farm } from "../../server/farm.ts";
import type { HandlerResult } from "../../tree/handler.ts";
import { Packet } from "../../tree/packet.ts";
import { describe, StanzaError } from "../../util/errors.ts";
import { JID } from "../../util/jid.ts";
import type { Element } from "../../xml/element.ts";
import { currentCause, withCause } from "./causes.ts";
import { inbound } from "./dispatch.ts";
import type { SessionManager } from "./session_manager.ts";
import { handleRoute } from "./session_routes.ts";
import { bareText, fullOf, SmSession } from "./sessions.ts";
import type { SessionEvent } from "./types.ts";

/** Marks the stand-in session of a lost node's user (`Session.data`), so it claims nothing. */
const LOST_SESSION = "farm-lost-session";

export class FarmHomes {
  readonly #sm: SessionManager;
  readonly #farm: Farm;
  /** Stanzas a dead home sent back: handled here, never forwarded again. */
  readonly #stay = new WeakSet<Element>();

  constructor(sm: SessionManager, farm: Farm) {
    this.#sm = sm;
    this.#farm = farm;
    const api = sm.api;
    api.hook<SessionEvent>("resource-bind", ({ session }) => {
      if (!session.data.has(LOST_SESSION)) farm.sessionOpened(fullOf(session));
      return undefined;
    });
    api.hook<SessionEvent>("resource-unbind", ({ session }) => {
      if (session.data.has(LOST_SESSION)) return undefined;
      farm.sessionClosed(fullOf(session));
      // resource-unbind fires while the session is still registered: look once it is gone.
      const bare = bareText(session.jid);
      queueMicrotask(() => this.#releaseIfUnused(bare));
      return undefined;
    });
    const off = farm.onNodeLost(({ sessions }) => this.#lost(sessions));
    api.onUnload(off);
    api.onUnload(farm.onCutOff(() => this.#cutOff()));
  }

  /**
   * A route packet (ROUTING.md "route"): undefined when this node handles it, else what the
   * handler answers once it went to the user's home (claimed first for a session open, R41).
   */
  route(packet: Packet): HandlerResult | Promise<HandlerResult> | undefined {
    const element = packet.element;
    const to = element.attrs.to === undefined ? undefined : JID.tryParse(element.attrs.to);
    if (!to || to.local === "" || to.isBare) return undefined;
    const bare = bareText(to);
    if (this.#sm.sessions.ofUser(bare).length > 0) return undefined;
    const home = this.#farm.homeOf(bare);
    if (element.attrs.type !== "session") {
      // A session's stanza or its end: to the node holding it, if another one does. Not waited
      // for (NATS keeps the order); when that node is gone it is handled here after all.
      if (home === undefined) return undefined;
      this.#farm.forward(home, packet).then((sent) => {
        if (sent) return;
        return withCause(packet, () => handleRoute(this.#sm, element));
      }).catch((error) =>
        this.#sm.api.log.error(`farm: a route for ${to} failed: ${describe(error)}`)
      );
      return "done";
    }
    return this.#open(packet, bare, home);
  }

  /**
   * A stanza for a user with no session here (dispatch.ts, before the inbound events): true
   * when it went to the user's home on another node. When that node turns out gone, the stanza
   * comes back here and is handled as for any user without sessions (offline storage).
   */
  forwardAway(stanza: Element, bare: string): boolean {
    if (this.#stay.has(stanza)) return false;
    const home = this.#farm.homeOf(bare);
    if (home === undefined) return false;
    const cause = currentCause();
    const packet = new Packet(stanza, { hops: cause ? cause.hops + 1 : 0 });
    this.#farm.forward(home, packet).then((sent) => {
      if (sent) return;
      this.#stay.add(stanza);
      return withCause(packet, () => inbound(this.#sm, stanza));
    }).catch((error) =>
      this.#sm.api.log.error(`farm: a <${stanza.name}> for ${bare} was lost: ${describe(error)}`)
    );
    return true;
  }

  /** A session open for a user with no session here: to the home, claimed here if none. */
  async #open(packet: Packet, bare: string, home: string | undefined): Promise<HandlerResult> {
    const farm = this.#farm;
    if (home !== undefined && await farm.forward(home, packet)) return "done";
    // No live home (or it just vanished): whoever claims first is the home; the loser sends the
    // open to the winner, so both logins of one user meet in one session manager.
    let winner = await farm.claim(bare);
    if (winner !== farm.node && !await farm.forward(winner, packet)) {
      winner = await farm.claim(bare);
      if (winner !== farm.node && await farm.forward(winner, packet)) return "done";
    } else if (winner !== farm.node) return "done";
    const result = await withCause(packet, () => handleRoute(this.#sm, packet.element));
    // A refused open (a malformed JID, a host not ours) leaves no session: no home either.
    this.#releaseIfUnused(bare);
    return result;
  }

  #releaseIfUnused(bare: string): void {
    if (this.#sm.sessions.ofUser(bare).length > 0) return;
    if (this.#farm.homeOf(bare) !== undefined) return;
    this.#farm.release(bare).catch(() => {});
  }

  /**
   * This node took the loss of another (ROUTING.md R45): each of its users' sessions ends here as
   * a stand-in, so the presence feature's own logout broadcast (`resource-unbind`) sends their
   * contacts unavailable presence, read from the shared roster.
   */
  #lost(sessions: readonly string[]): void {
    const sm = this.#sm;
    for (const full of sessions) {
      const jid = JID.tryParse(full);
      if (!jid || jid.isBare || sm.sessions.get(full) || !sm.api.servesHost(jid.domain)) continue;
      const standIn = new SmSession(jid, `${sm.api.id}/lost`, sm.api.timer.now());
      standIn.available = true;
      standIn.data.set(LOST_SESSION, true);
      sm.sessions.add(standIn);
      sm.forget(standIn, "node lost");
    }
  }

  /**
   * The other nodes took this one for lost (docs/farm.md "Failures"): every session here ends
   * with `system-shutdown` (sessionEndError in c2s), so its client logs in again, on whichever
   * node, and its contacts get its presence afresh.
   */
  #cutOff(): void {
    const sm = this.#sm;
    for (const session of [...sm.sessions.all()]) {
      if (session.data.has(LOST_SESSION)) continue;
      sm.endSession(
        session,
        "cut off from the farm",
        new StanzaError("service-unavailable", "This node was cut off from the farm: log in again"),
      );
    }
  }
}

/** The farm part of a session manager, when a `<farm>` section offers one (checked once). */
export function farmHomes(sm: SessionManager): FarmHomes | undefined {
  const offer = sm.api.offered<Farm>(FARM)[0];
  return offer ? new FarmHomes(sm, offer.value) : undefined;
}
