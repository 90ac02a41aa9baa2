/**
 * The `muc#admin` queries (XEP-0045 §8–§9): moderators change roles (kick §8.2, voice §8.3–§8.4,
 * moderator §9.6–§9.7, role lists); admins and owners change affiliations (ban §9.1, members
 * §9.3–§9.5, admins and owners §10.3–§10.8, affiliation lists). Every item is checked before any
 * is applied, so a refused request changes nothing.
 */
import { StanzaError } from "../../util/errors.ts";
import { JID } from "../../util/jid.ts";
import { NS_MUC_ADMIN } from "../../util/ns.ts";
import { type Element, xml } from "../../xml/element.ts";
import {
  type Affiliation,
  AFFILIATIONS,
  bareOfFull,
  type Occupant,
  RANK,
  type Role,
  ROLES,
  type Room,
} from "./room.ts";
import { actorAndReason, type Context, type MucService } from "./service.ts";

export function adminGet(svc: MucService, room: Room, query: Element, ctx: Context): void {
  const item = query.getChild("item");
  const answer = xml("query", { xmlns: NS_MUC_ADMIN });
  const affiliation = AFFILIATIONS.find((a) => a === item?.attrs.affiliation);
  const role = ROLES.find((r) => r === item?.attrs.role);
  if (affiliation && affiliation !== "none") {
    svc.requireAffiliation(room, ctx, "admin", "Only admins and owners may see affiliation lists");
    for (const jid of room.withAffiliation(affiliation)) {
      answer.append(xml("item", { affiliation, jid }));
    }
  } else if (role && role !== "none") {
    const asker = room.byJid.get(ctx.from.toString());
    if (asker?.role !== "moderator") {
      throw new StanzaError("forbidden", "Only moderators may see role lists");
    }
    for (const o of room.occupants.values()) {
      if (o.role !== role) continue;
      const affiliation = svc.affiliation(room, bareOfFull(o.jid));
      answer.append(xml("item", { affiliation, role, nick: o.nick, jid: o.jid }));
    }
  } else {
    throw new StanzaError("bad-request", "Ask for one affiliation or one role");
  }
  svc.reply(ctx, answer);
}

type Change =
  | { kind: "role"; target: Occupant; role: Role; reason?: string }
  | { kind: "affiliation"; jid: string; affiliation: Affiliation; reason?: string };

export async function adminSet(
  svc: MucService,
  room: Room,
  query: Element,
  ctx: Context,
): Promise<void> {
  const actor = room.byJid.get(ctx.from.toString());
  const actorAffiliation = svc.affiliation(room, ctx.from.bareString());
  const changes = query.getChildren("item").map((item) =>
    check(svc, room, item, actor, actorAffiliation)
  );
  if (changes.length === 0) throw new StanzaError("bad-request", "Name an item to change");
  if (changes.some((c) => c.kind === "affiliation")) {
    // An owner's own or others' demotion must leave the room with an owner (§10.6).
    const after = new Map(room.affiliations);
    for (const c of changes) {
      if (c.kind === "affiliation") {
        if (c.affiliation === "none") after.delete(c.jid);
        else after.set(c.jid, c.affiliation);
      }
    }
    if (![...after.values()].includes("owner")) {
      throw new StanzaError("conflict", "A room keeps at least one owner");
    }
  }
  for (const change of changes) {
    if (change.kind === "role") {
      applyRole(svc, room, change.target, change.role, actor, change.reason, ctx);
    } else applyAffiliation(svc, room, change.jid, change.affiliation, actor, change.reason, ctx);
  }
  if (room.config.persistent && changes.some((c) => c.kind === "affiliation")) await svc.save(room);
  svc.reply(ctx);
}

function check(
  svc: MucService,
  room: Room,
  item: Element,
  actor: Occupant | undefined,
  actorAffiliation: Affiliation,
): Change {
  const reason = item.getChildText("reason");
  if (item.attrs.role !== undefined) {
    const role = ROLES.find((r) => r === item.attrs.role);
    if (!role) throw new StanzaError("bad-request", `Role ${item.attrs.role} is not known`);
    if (item.attrs.nick === undefined) {
      throw new StanzaError("bad-request", "A role change names a nick");
    }
    const target = room.occupants.get(item.attrs.nick);
    if (!target) throw new StanzaError("item-not-found", "Nobody has that nickname in this room");
    const targetAffiliation = svc.affiliation(room, bareOfFull(target.jid));
    const isModerator = actor?.role === "moderator" || RANK[actorAffiliation] >= RANK.admin;
    if (!isModerator) throw new StanzaError("forbidden", "Only moderators may change roles");
    // Granting or taking moderator is for admins (§9.6, §9.7).
    if (
      (role === "moderator" || target.role === "moderator") && RANK[actorAffiliation] < RANK.admin
    ) {
      throw new StanzaError("forbidden", "Only admins may grant or revoke moderator");
    }
    // Admins and owners are not kicked or silenced, nor anyone above the actor (§8.2, §8.4).
    if (
      (role !== "moderator" && RANK[targetAffiliation] >= RANK.admin) ||
      RANK[targetAffiliation] > RANK[actorAffiliation]
    ) {
      throw new StanzaError("not-allowed", "You may not change the role of that occupant");
    }
    return { kind: "role", target, role, reason };
  }
  if (item.attrs.affiliation !== undefined) {
    const affiliation = AFFILIATIONS.find((a) => a === item.attrs.affiliation);
    if (!affiliation) {
      throw new StanzaError("bad-request", `Affiliation ${item.attrs.affiliation} is not known`);
    }
    const jid = item.attrs.jid !== undefined
      ? JID.tryParse(item.attrs.jid)?.bareString()
      : room.occupants.get(item.attrs.nick ?? "")?.jid;
    if (!jid) throw new StanzaError("jid-malformed", "An affiliation change names a JID");
    const bare = bareOfFull(jid);
    if (RANK[actorAffiliation] < RANK.admin) {
      throw new StanzaError("forbidden", "Only admins and owners may change affiliations");
    }
    const current = svc.affiliation(room, bare);
    // Admins manage members and outcasts; owners also admins and owners (§9, §10.3–§10.8).
    if (
      actorAffiliation !== "owner" &&
      (RANK[affiliation] >= RANK.admin || RANK[current] >= RANK.admin)
    ) {
      throw new StanzaError("not-allowed", "Only owners may change admins and owners");
    }
    if (svc.settings.admins.has(bare) && affiliation !== "owner") {
      throw new StanzaError("not-allowed", "Service administrators keep their rights");
    }
    return { kind: "affiliation", jid: bare, affiliation, reason };
  }
  throw new StanzaError("bad-request", "An item changes a role or an affiliation");
}

function applyRole(
  svc: MucService,
  room: Room,
  target: Occupant,
  role: Role,
  actor: Occupant | undefined,
  reason: string | undefined,
  ctx: Context,
): void {
  const extra = actorAndReason(actor?.nick, reason);
  if (role === "none") {
    const affiliation = svc.affiliation(room, bareOfFull(target.jid));
    svc.evict(room, target, ctx, 307, affiliation, extra);
    return;
  }
  target.role = role;
  svc.broadcastPresence(room, target, ctx, { extra });
}

function applyAffiliation(
  svc: MucService,
  room: Room,
  bare: string,
  affiliation: Affiliation,
  actor: Occupant | undefined,
  reason: string | undefined,
  ctx: Context,
): void {
  room.setAffiliation(bare, affiliation);
  const extra = actorAndReason(actor?.nick, reason);
  for (const occupant of room.occupantsOf(bare)) {
    if (affiliation === "outcast") {
      svc.evict(room, occupant, ctx, 301, "outcast", extra);
    } else if (room.config.membersOnly && RANK[affiliation] < RANK.member) {
      svc.evict(room, occupant, ctx, 321, affiliation, extra);
    } else {
      occupant.role = room.defaultRole(svc.affiliation(room, bare));
      svc.broadcastPresence(room, occupant, ctx, { extra });
    }
  }
}
