/**
 * XEP-0054 vcard-temp (get one's own or another user's vCard, set one's own; stored under ns
 * `vcard-temp`) and the XEP-0153 avatar hash: the SHA-1 of the vCard's photo is added as
 * `<x xmlns="vcard-temp:x:update"><photo>hash</photo></x>` to each available presence a session
 * broadcasts. A `pre-presence` hook runs before the presence is routed, so it may add that child
 * to the stanza of origin; a client that writes its own `<x>` keeps it (§4.2).
 *
 * After a client stores its vCard it fires `vcard-stored` ({ owner, vcard }) and awaits its
 * hook (XEP-0398 conversion to PEP, avatar_conversion.ts), so the reply comes after. Another
 * feature stores a vCard for a user by firing `vcard-set` ({ owner, vcard }): stored and hashed
 * like a client's, but without `vcard-stored`, so a conversion never comes back as a change.
 */
import { describe, StanzaError } from "../../../util/errors.ts";
import { NS_VCARD, NS_VCARD_UPDATE } from "../../../util/ns.ts";
import { type Element, xml } from "../../../xml/element.ts";
import type { OutboundEvent, SessionEvent, SmFeature, StanzaEvent } from "../types.ts";
import { advertise } from "./advertise.ts";

/** The hex SHA-1 of the vCard's inline photo, "" when it has none (§3.1: `<photo/>`). */
export async function photoHash(vcard: Element | undefined): Promise<string> {
  const binval = vcard?.getChild("PHOTO")?.getChildText("BINVAL")?.replace(/\s+/g, "");
  if (!binval) return "";
  let bytes: Uint8Array<ArrayBuffer>;
  try {
    bytes = Uint8Array.from(atob(binval), (c) => c.charCodeAt(0));
  } catch {
    return "";
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-1", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

export const vcard: SmFeature = {
  name: "vcard",
  register(sm) {
    const { api } = sm;
    /** Photo hashes of users with sessions, so presence need not wait for storage. */
    const hashes = new Map<string, string>();
    advertise(sm, "host", NS_VCARD);
    advertise(sm, "bare", NS_VCARD);
    // Each hook returns its promise: the dispatcher answers a failure (types.ts).
    const answer = async (stanza: Element, owner: string) => {
      const stored = await api.xdb.get(owner, NS_VCARD);
      sm.reply(stanza, stored?.clone() ?? xml("vCard", { xmlns: NS_VCARD }));
    };
    // The dispatcher checked that the user exists before firing a bare-JID event.
    api.hook<StanzaEvent>(
      `iq-get/self/${NS_VCARD}:vCard`,
      ({ stanza, to }) => answer(stanza, to.bareString()),
    );
    api.hook<StanzaEvent>(
      `iq-get/bare/${NS_VCARD}:vCard`,
      ({ stanza, to }) => answer(stanza, to.bareString()),
    );
    const store = async (owner: string, card: Element) => {
      await api.xdb.set(owner, NS_VCARD, card);
      if (sm.sessions.ofUser(owner).length > 0) hashes.set(owner, await photoHash(card));
    };
    api.hook<StanzaEvent>(`iq-set/self/${NS_VCARD}:vCard`, async ({ stanza, to }) => {
      const owner = to.bareString();
      const card = stanza.getChild("vCard", NS_VCARD)!.clone();
      card.attrs.xmlns = NS_VCARD;
      await store(owner, card);
      await api.fire("vcard-stored", { owner, vcard: card });
      sm.reply(stanza);
    });
    api.hook<{ owner: string; vcard: Element }>("vcard-set", ({ owner, vcard }) => {
      const card = vcard.clone();
      card.attrs.xmlns = NS_VCARD;
      return store(owner, card);
    });
    api.hook<StanzaEvent>(`iq-set/bare/${NS_VCARD}:vCard`, ({ stanza }) => {
      sm.replyError(stanza, new StanzaError("forbidden", "Only its owner sets a vCard"));
      return true;
    });

    api.hook<SessionEvent>("resource-bind", ({ session }) => {
      const owner = session.jid.bareString();
      if (hashes.has(owner)) return;
      api.xdb.get(owner, NS_VCARD).then(photoHash).then((hash) => {
        if (sm.sessions.ofUser(owner).length > 0) hashes.set(owner, hash);
      }).catch((error) => api.log.warn(`Cannot read the vCard of ${owner}: ${describe(error)}`));
    });
    api.hook<SessionEvent>("resource-unbind", ({ session }) => {
      const owner = session.jid.bareString();
      if (!sm.sessions.ofUser(owner).some((s) => s !== session)) hashes.delete(owner);
    });
    // Runs before the presence feature broadcasts (priority 100 > its hooks).
    const stamp = ({ stanza, origin, to }: OutboundEvent) => {
      if (to || stanza.attrs.type) return;
      if (stanza.getChild("x", NS_VCARD_UPDATE)) return;
      const hash = hashes.get(origin.jid.bareString());
      if (hash === undefined) return;
      const photo = hash ? xml("photo", {}, hash) : xml("photo");
      stanza.append(xml("x", { xmlns: NS_VCARD_UPDATE }, photo));
    };
    api.hook("pre-presence/bare", stamp, 100);
    api.hook("pre-presence/host", stamp, 100);
  },
};
