/**
 * Rosters, presence subscriptions and presence (RFC 6121 §2–4): three features that share one
 * roster store and its per-user lock (store.ts), so they live in this folder and talk to the
 * other features only through the SmApi.
 */
export { roster } from "./roster.ts";
export { subscription } from "./subscription.ts";
export { presence } from "./presence.ts";
