/**
 * Service discovery (XEP-0030) of the MUC service and its rooms (XEP-0045 §6): the service's
 * identity and features (§6.1), its public rooms (§6.3), a room's identity, features and
 * `muc#roominfo` (§6.4), and a room's items, left empty so that occupants stay private (§6.5).
 */
import { StanzaError } from "../../util/errors.ts";
import {
  NS_DISCO_INFO,
  NS_DISCO_ITEMS,
  NS_MAM,
  NS_MUC,
  NS_MUC_ROOMINFO,
  NS_PING,
} from "../../util/ns.ts";
import { type Element, xml } from "../../xml/element.ts";
import type { RoomArchives } from "./archive.ts";
import { field, form } from "./form.ts";
import type { Room } from "./room.ts";
import type { Context, MucService } from "./service.ts";

export function serviceInfo(svc: MucService, ctx: Context): void {
  const query = xml(
    "query",
    { xmlns: NS_DISCO_INFO },
    xml("identity", { category: "conference", type: "text", name: svc.settings.name }),
  );
  for (const feature of [NS_DISCO_INFO, NS_DISCO_ITEMS, NS_MUC, NS_PING]) {
    query.append(xml("feature", { var: feature }));
  }
  svc.reply(ctx, query);
}

/** The public rooms: those in memory and the stored persistent ones, unlocked and listed. */
export async function serviceItems(svc: MucService, ctx: Context): Promise<void> {
  const domain = ctx.to.domain;
  const jids = new Set([...svc.rooms.keys()].filter((jid) => jid.endsWith(`@${domain}`)));
  for (const jid of await svc.storedRooms(domain)) jids.add(jid);
  const query = xml("query", { xmlns: NS_DISCO_ITEMS });
  for (const jid of [...jids].sort()) {
    const room = await svc.room(jid);
    if (!room || room.locked || !room.config.public) continue;
    query.append(xml("item", { jid, name: room.config.name }));
  }
  svc.reply(ctx, query);
}

/** The features a room shows for its configuration (XEP-0045 §15.2 registrar). */
export function roomFeatures(room: Room): string[] {
  const c = room.config;
  return [
    NS_MUC,
    c.persistent ? "muc_persistent" : "muc_temporary",
    c.public ? "muc_public" : "muc_hidden",
    c.membersOnly ? "muc_membersonly" : "muc_open",
    c.moderated ? "muc_moderated" : "muc_unmoderated",
    c.password !== "" ? "muc_passwordprotected" : "muc_unsecured",
    c.whois === "anyone" ? "muc_nonanonymous" : "muc_semianonymous",
    "urn:xmpp:ping",
    NS_DISCO_INFO,
  ];
}

export function roomInfo(svc: MucService, room: Room, ctx: Context, archives: RoomArchives): void {
  if (room.locked) throw new StanzaError("item-not-found", "This room is locked");
  const query = xml(
    "query",
    { xmlns: NS_DISCO_INFO },
    xml("identity", { category: "conference", type: "text", name: room.config.name }),
  );
  const features = roomFeatures(room);
  // XEP-0313 "MUC Archives": a room with an archive says so.
  if (archives.archives(room)) features.push(NS_MAM);
  for (const feature of features) query.append(xml("feature", { var: feature }));
  query.append(roomInfoForm(room));
  svc.reply(ctx, query);
}

function roomInfoForm(room: Room): Element {
  const info = "muc#roominfo_";
  return form("result", NS_MUC_ROOMINFO, [
    field(`${info}description`, { label: "Description", values: [room.config.description] }),
    field(`${info}subject`, { label: "Subject", values: [room.subject?.text ?? ""] }),
    field(`${info}occupants`, {
      label: "Number of occupants",
      values: [String(room.occupants.size)],
    }),
  ]);
}

export function roomItems(svc: MucService, room: Room, ctx: Context): void {
  if (room.locked) throw new StanzaError("item-not-found", "This room is locked");
  svc.reply(ctx, xml("query", { xmlns: NS_DISCO_ITEMS }));
}
