/**
 * XEP-0313 §6 archiving preferences: `<prefs default="always|never|roster">` with `<always>` and
 * `<never>` lists of bare JIDs, and the decision of §6.1 whether a message with a contact is
 * archived. Stored as the XDB element of the user's `urn:xmpp:mam:2` (the archive itself is the
 * keyed log beside it).
 */
import { StanzaError } from "../../../../util/errors.ts";
import { JID } from "../../../../util/jid.ts";
import { NS_MAM } from "../../../../util/ns.ts";
import { type Element, xml } from "../../../../xml/element.ts";

export type DefaultPolicy = "always" | "never" | "roster";
const POLICIES: readonly DefaultPolicy[] = ["always", "never", "roster"];

export interface Prefs {
  default: DefaultPolicy;
  always: Set<string>;
  never: Set<string>;
}

/** Reads stored or requested prefs; `fallback` is the default when none is given. */
export function readPrefs(element: Element | undefined, fallback: DefaultPolicy): Prefs {
  const chosen = element?.attrs.default;
  const list = (name: string) =>
    new Set(
      (element?.getChild(name)?.getChildren("jid") ?? []).map((jid) => {
        const parsed = JID.tryParse(jid.text().trim());
        if (!parsed) throw new StanzaError("jid-malformed", `"${jid.text()}" is not a JID`);
        return parsed.bareString();
      }),
    );
  if (chosen !== undefined && !POLICIES.includes(chosen as DefaultPolicy)) {
    throw new StanzaError("bad-request", `default must be always, never or roster`);
  }
  return {
    default: (chosen as DefaultPolicy | undefined) ?? fallback,
    always: list("always"),
    never: list("never"),
  };
}

export function prefsElement(prefs: Prefs): Element {
  const list = (name: string, jids: Set<string>) =>
    xml(name, {}, ...[...jids].sort().map((jid) => xml("jid", {}, jid)));
  return xml(
    "prefs",
    { xmlns: NS_MAM, default: prefs.default },
    list("always", prefs.always),
    list("never", prefs.never),
  );
}

/**
 * §6.1: whether a message with `peer` (a bare JID) is archived. `inRoster` is asked only when
 * the default is roster and neither list names the peer.
 */
export function archives(prefs: Prefs, peer: string, inRoster: () => boolean): boolean {
  if (prefs.never.has(peer)) return false;
  if (prefs.always.has(peer)) return true;
  if (prefs.default === "roster") return inRoster();
  return prefs.default === "always";
}
