/**
 * How features tell service discovery (XEP-0030 §3.1) what they offer: disco fires
 * `disco-info/host` (about a host) or `disco-info/bare` (about a user's bare JID) with a
 * `DiscoInfo`, and every feature's hook adds its identities and features and returns undefined,
 * so that all of them run and a disabled feature is never advertised.
 */
import type { Element } from "../../../xml/element.ts";
import type { SmApi } from "../types.ts";

/** What disco gathers for one answer. */
export interface DiscoInfo {
  /** The entity asked about (a host, or a user's bare JID). */
  readonly jid: string;
  /** `<identity category type name?/>` elements, in the disco#info namespace's default. */
  readonly identities: Element[];
  readonly features: Set<string>;
}

export type DiscoTarget = "host" | "bare";

/** Adds `features` to every disco#info answer about a host or a user. */
export function advertise(sm: SmApi, target: DiscoTarget, ...features: string[]): void {
  sm.api.hook<DiscoInfo>(`disco-info/${target}`, (info) => {
    for (const feature of features) info.features.add(feature);
  });
}
