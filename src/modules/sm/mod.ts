/**
 * `<sm xmlns="jabberd:config:sm">` in a `<service>`: the session manager (RFC 6121). It holds the
 * sessions c2s opens through route packets (ROUTING.md, "route"), fires the events of types.ts
 * for every stanza, routes messages (RFC 6121 §8.5), and registers its features: offline
 * storage (XEP-0160) and the list in `features/mod.ts`, except those `<disable>` names.
 */
import type { ModuleDefinition } from "../../server/module_api.ts";
import { type Packet } from "../../tree/packet.ts";
import { StanzaError } from "../../util/errors.ts";
import { NS_SM_CONFIG } from "../../util/ns.ts";
import { withCause } from "./causes.ts";
import { readSmConfig, validateSmConfig } from "./config.ts";
import { farmHomes } from "./farm_homes.ts";
import { inbound } from "./dispatch.ts";
import { smFeatures } from "./features/mod.ts";
import { registerDefaultRouting } from "./message_routing.ts";
import { offlineFeature } from "./offline.ts";
import { SessionManager } from "./session_manager.ts";
import { handleRoute } from "./session_routes.ts";
import type { SmFeature } from "./types.ts";

/** Features of the core itself, registered before the others and disabled the same way. */
export const coreFeatures: readonly SmFeature[] = [offlineFeature];

/** Every feature `<disable>` may name, in registration order. */
export function allFeatures(): readonly SmFeature[] {
  return [...coreFeatures, ...smFeatures];
}

const STANZAS = new Set(["message", "presence", "iq"]);

/**
 * The `<sm>` module with a given feature list (tests add their own probes; the server uses
 * `smModule`). `<disable>` may name any feature of the list.
 */
export function sessionManagerModule(features: readonly SmFeature[]): ModuleDefinition {
  return {
    element: NS_SM_CONFIG,
    sections: ["service"],
    validate(element, context) {
      validateSmConfig(element, context, features);
    },
    async register(api) {
      const sm = new SessionManager(api, readSmConfig(api.config));
      registerDefaultRouting(sm);
      // In a farm, a user's sessions live on one home node (farm_homes.ts, ROUTING.md R41).
      const homes = farmHomes(sm);
      sm.homes = homes;
      api.handle("deliver", (packet: Packet) =>
        withCause(packet, () => {
          if (packet.kind === "route") {
            return homes?.route(packet) ?? handleRoute(sm, packet.element);
          }
          if (packet.kind !== "normal" || !STANZAS.has(packet.element.local)) return "pass";
          // Only stanzas for our hosts: the section's id is a host too (ROUTING.md R7), and a
          // stanza to it is not for one of our users.
          if (!api.servesHost(packet.host)) return "pass";
          const work = inbound(sm, packet.element);
          return work ? work.then(() => "done" as const) : "done";
        }));
      for (const feature of features) {
        if (sm.config.disabled.has(feature.name)) continue;
        await feature.register(sm);
      }
      api.onUnload(async () => {
        // Stanzas already taken are processed first (they may be stored offline): the tree's
        // by Section.stop (ROUTING.md R25), the ones the sm routed to its own users here.
        await sm.idle();
        // Tell c2s the sessions are gone, so it closes their streams (system-shutdown).
        for (const session of [...sm.sessions.all()]) {
          sm.endSession(session, "shutdown", new StanzaError("service-unavailable", SHUTDOWN));
        }
      });
    },
  };
}

/** The text of the route error that ends sessions when the session manager stops. */
export const SHUTDOWN = "System shutdown";

export const smModule: ModuleDefinition = sessionManagerModule(allFeatures());

export { readSmConfig, type SmConfig } from "./config.ts";
export type * from "./types.ts";
