/**
 * Roster pushes (RFC 6121 §2.1.6): a changed roster item goes to every resource of the user
 * that requested the roster, as an iq set without `from` carrying the new version (XEP-0237).
 */
import { NS_ROSTER } from "../../../../util/ns.ts";
import { type Element, xml } from "../../../../xml/element.ts";
import type { SmApi } from "../../types.ts";

let pushes = 0;

/** Sends `item` (an `<item/>` of a roster) to each interested session of `owner` (a bare JID). */
export function pushRosterItem(sm: SmApi, owner: string, item: Element, ver: string): void {
  for (const session of sm.sessions.ofUser(owner)) {
    if (!session.interested) continue;
    const query = xml("query", { xmlns: NS_ROSTER, ver }, item.clone());
    const to = session.jid.toString();
    sm.sendToSession(session, xml("iq", { type: "set", id: `push${++pushes}`, to }, query));
  }
}
