/**
 * XEP-0398 User Avatar to vCard-Based Avatars Conversion: an avatar a user publishes to PEP
 * (XEP-0084: `urn:xmpp:avatar:data`, then `urn:xmpp:avatar:metadata` naming it) becomes the
 * PHOTO of their vCard (XEP-0054), so XEP-0153 presence hashes and vCard readers see it; a
 * vCard stored with a PHOTO is published to those two nodes (item id: the SHA-1 of the bytes,
 * access model open as XEP-0084 §4.2 wants); a vCard without one disables the PEP avatar.
 * Advertised on the account as `urn:xmpp:pep-vcard-conversion:0` (§3).
 *
 * It talks to the vcard and pep features through events only (docs/module-api.md): it hooks
 * `pep-published` and `vcard-stored`, which fire only for what a client did, and writes with
 * `vcard-set` and `pep-publish`, which fire neither, so a conversion never converts back.
 * Conversion failures are logged: the client's own publish or vCard stands.
 */
import { describe } from "../../../util/errors.ts";
import { NS_VCARD } from "../../../util/ns.ts";
import { type Element, xml } from "../../../xml/element.ts";
import type { SmApi, SmFeature } from "../types.ts";
import { advertise } from "./advertise.ts";

export const NS_AVATAR_DATA = "urn:xmpp:avatar:data";
export const NS_AVATAR_METADATA = "urn:xmpp:avatar:metadata";
export const NS_PEP_VCARD_CONVERSION = "urn:xmpp:pep-vcard-conversion:0";

/** XEP-0084 §4.2: avatars are meant for everyone. */
const OPEN = new Map([["pubsub#access_model", ["open"]]]);

/** The bytes of base64 text (whitespace ignored), or undefined when it is not base64. */
function decode(base64: string): Uint8Array<ArrayBuffer> | undefined {
  try {
    return Uint8Array.from(atob(base64.replace(/\s+/g, "")), (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

/** The hex SHA-1 of `bytes` (XEP-0084 §4.2.1: the avatar's id). */
export async function sha1Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-1", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

interface PublishedEvent {
  owner: string;
  node: string;
  item: Element;
}

interface VcardEvent {
  owner: string;
  vcard: Element;
}

export const avatarConversion: SmFeature = {
  name: "avatar-conversion",
  register(sm) {
    const { api } = sm;
    advertise(sm, "bare", NS_PEP_VCARD_CONVERSION);
    const items = async (owner: string, node: string): Promise<Element[]> =>
      (await api.fire("pep-items", { owner, node }) as Element[] | undefined) ?? [];
    const guarded = (owner: string, work: Promise<void>) =>
      work.catch((error) =>
        api.log.warn(`XEP-0398 avatar conversion for ${owner} failed: ${describe(error)}`)
      );

    api.hook<PublishedEvent>("pep-published", ({ owner, node, item }) => {
      if (node !== NS_AVATAR_METADATA) return undefined;
      const metadata = item.getChild("metadata", NS_AVATAR_METADATA);
      if (!metadata) return undefined;
      return guarded(owner, toVcard(sm, owner, metadata, items));
    });

    api.hook<VcardEvent>(
      "vcard-stored",
      ({ owner, vcard }) => guarded(owner, toPep(sm, owner, vcard, items)),
    );
  },
};

type ItemsOf = (owner: string, node: string) => Promise<Element[]>;

/** PEP → vCard (§4.1): the PHOTO of the avatar the metadata names, or none when it is empty. */
async function toVcard(sm: SmApi, owner: string, metadata: Element, items: ItemsOf) {
  const infos = metadata.getChildren("info").filter((info) => info.attrs.id && !info.attrs.url);
  let photo: Element | undefined;
  if (infos.length > 0 || metadata.getChildren("info").length > 0) {
    // XEP-0084 §4.2.1: PNG is the one every client has; take it first.
    infos.sort((a, b) =>
      Number(b.attrs.type === "image/png") - Number(a.attrs.type === "image/png")
    );
    const data = await items(owner, NS_AVATAR_DATA);
    for (const info of infos) {
      const base64 = data.find((item) => item.attrs.id === info.attrs.id)
        ?.getChildText("data")?.replace(/\s+/g, "");
      const bytes = base64 ? decode(base64) : undefined;
      if (!bytes || await sha1Hex(bytes) !== info.attrs.id) continue;
      photo = xml(
        "PHOTO",
        {},
        xml("TYPE", {}, info.attrs.type ?? "image/png"),
        xml("BINVAL", {}, base64!),
      );
      break;
    }
    if (!photo) return; // Hosted elsewhere (url) or not published: nothing to convert.
  }
  const stored = await sm.api.xdb.get(owner, NS_VCARD);
  const old = stored?.getChild("PHOTO");
  if (!old && !photo) return;
  const oldBinval = old?.getChildText("BINVAL")?.replace(/\s+/g, "");
  if (photo && oldBinval === photo.getChildText("BINVAL")) return;
  const kept = (stored?.elements ?? []).filter((child) => child.local !== "PHOTO");
  const card = xml("vCard", { xmlns: NS_VCARD }, ...kept.map((child) => child.clone()));
  if (photo) card.append(photo);
  await sm.api.fire("vcard-set", { owner, vcard: card });
}

/** vCard → PEP (§4.2): data then metadata, unless PEP has that avatar already. */
async function toPep(sm: SmApi, owner: string, vcard: Element, items: ItemsOf) {
  const photo = vcard.getChild("PHOTO");
  const base64 = photo?.getChildText("BINVAL")?.replace(/\s+/g, "");
  const bytes = base64 ? decode(base64) : undefined;
  const current = (await items(owner, NS_AVATAR_METADATA)).at(-1)
    ?.getChild("metadata", NS_AVATAR_METADATA)?.getChildren("info") ?? [];
  const publish = (node: string, item: Element) =>
    sm.api.fire("pep-publish", { owner, node, item, options: OPEN });
  if (!bytes) {
    // No photo any more: XEP-0084 §4.5 disables the avatar with empty metadata.
    if (current.length === 0) return;
    await publish(
      NS_AVATAR_METADATA,
      xml("item", {}, xml("metadata", { xmlns: NS_AVATAR_METADATA })),
    );
    return;
  }
  const id = await sha1Hex(bytes);
  if (current.some((info) => info.attrs.id === id)) return;
  const type = photo!.getChildText("TYPE")?.trim() || "image/png";
  await publish(
    NS_AVATAR_DATA,
    xml("item", { id }, xml("data", { xmlns: NS_AVATAR_DATA }, base64!)),
  );
  const info = xml("info", { id, bytes: String(bytes.length), type });
  await publish(
    NS_AVATAR_METADATA,
    xml("item", { id }, xml("metadata", { xmlns: NS_AVATAR_METADATA }, info)),
  );
}
