/**
 * Presence to a room occupant's address (XEP-0045 §7.2–§7.4, §7.6, §7.14): entering a room, with
 * its checks (banned, members-only, password, nickname conflict, full room) and the creation of a
 * new locked room (§10.1); changing nickname (303) or availability; and exiting.
 */
import { StanzaError } from "../../util/errors.ts";
import { NS_MUC, NS_MUC_USER } from "../../util/ns.ts";
import { type Element, xml } from "../../xml/element.ts";
import { historyStanza, readHistoryRequest, selectHistory } from "./history.ts";
import { type Occupant, RANK, type Room } from "./room.ts";
import { type Context, joinElement, type MucService } from "./service.ts";

/** Handles presence to `room@service/nick`; `room` is undefined when it does not exist yet. */
export async function presenceToRoom(svc: MucService, ctx: Context): Promise<void> {
  const { stanza, from, to } = ctx;
  const type = stanza.attrs.type;
  const room = await svc.room(to.bareString());
  const occupant = room?.byJid.get(from.toString());
  if (type === "unavailable" || type === "error") {
    // An error from the occupant's client means it is gone (§7.2.x ghosts): it leaves too.
    if (room && occupant) exit(svc, room, occupant, ctx);
    return;
  }
  if (type !== undefined) return; // Subscriptions to a room have no meaning (§7.1).
  if (to.resource === "") {
    throw new StanzaError("jid-malformed", "Enter a room as room@service/nickname");
  }
  if (room && occupant) {
    if (occupant.nick !== to.resource) changeNick(svc, room, occupant, ctx);
    else if (joinElement(stanza)) rejoin(svc, room, occupant, ctx);
    else update(svc, room, occupant, ctx);
    return;
  }
  enter(svc, room, ctx);
}

function enter(svc: MucService, existing: Room | undefined, ctx: Context): void {
  const { stanza, from, to } = ctx;
  const nick = to.resource;
  const bare = from.bareString();
  const join = joinElement(stanza);
  let room = existing;
  if (!room) {
    if (!svc.mayCreate(from)) throw new StanzaError("not-allowed", "Only admins may create rooms");
    room = svc.create(to.bareString(), bare);
  } else {
    const affiliation = svc.affiliation(room, bare);
    if (room.locked && affiliation !== "owner") {
      throw new StanzaError("item-not-found", "This room is locked until its owner configures it");
    }
    if (affiliation === "outcast") {
      throw new StanzaError("forbidden", "You are banned from this room");
    }
    if (room.config.membersOnly && RANK[affiliation] < RANK.member) {
      throw new StanzaError("registration-required", "This room is for members only");
    }
    if (room.occupants.has(nick)) throw new StanzaError("conflict", "That nickname is in use");
    if (
      room.config.maxUsers > 0 && room.occupants.size >= room.config.maxUsers &&
      RANK[affiliation] < RANK.admin
    ) {
      throw new StanzaError("service-unavailable", "This room is full");
    }
    if (room.config.password !== "" && join?.getChildText("password") !== room.config.password) {
      throw new StanzaError("not-authorized", "This room needs the right password");
    }
  }
  const created = existing === undefined;
  // A client without the MUC extension cannot configure a room: it gets an instant room (§10.1.1).
  if (created && !join) room.locked = false;
  const occupant: Occupant = {
    nick,
    jid: from.toString(),
    role: room.defaultRole(svc.affiliation(room, bare)),
    presence: ownPresence(stanza),
  };
  room.add(occupant);
  welcome(svc, room, occupant, ctx, created);
}

/**
 * The entering sequence (§7.2.3–§7.2.16): the other occupants' presence, the occupant's own to
 * everyone (itself last, with 110), the history (not in a new room), then the subject.
 */
function welcome(svc: MucService, room: Room, occupant: Occupant, ctx: Context, created: boolean) {
  for (const other of room.occupants.values()) {
    if (other !== occupant) svc.send(svc.presenceOf(room, other, occupant), ctx);
  }
  const selfCodes = room.config.whois === "anyone" ? [100] : [];
  if (created) selfCodes.push(201);
  svc.broadcastPresence(room, occupant, ctx, { selfCodes });
  if (!created) {
    const join = joinElement(ctx.stanza);
    const request = readHistoryRequest(join?.getChild("history", NS_MUC));
    const now = svc.api.timer.now();
    for (const entry of selectHistory(room.history, request, room.config.maxHistory, now)) {
      svc.send(historyStanza(entry, occupant.jid, room.jid), ctx);
    }
  }
  // The subject comes last, even when empty: clients take it as the end of the join (§7.2.15).
  const subject = room.subject;
  svc.send(
    xml(
      "message",
      { from: room.address(subject?.nick ?? ""), to: occupant.jid, type: "groupchat" },
      xml("subject", {}, subject?.text ?? ""),
    ),
    ctx,
  );
}

/**
 * A join from an address that is already an occupant under that nick: its client lost track of
 * the room (a reconnection the room did not see end), so it gets the whole sequence again.
 */
function rejoin(svc: MucService, room: Room, occupant: Occupant, ctx: Context): void {
  occupant.presence = ownPresence(ctx.stanza);
  welcome(svc, room, occupant, ctx, false);
}

/** The children of an occupant's presence the room repeats: not the MUC extensions. */
function ownPresence(stanza: Element): Element[] {
  return stanza.elements.filter((child) => !child.is("x", NS_MUC) && !child.is("x", NS_MUC_USER))
    .map((child) => child.clone());
}

function update(svc: MucService, room: Room, occupant: Occupant, ctx: Context): void {
  occupant.presence = ownPresence(ctx.stanza);
  svc.broadcastPresence(room, occupant, ctx);
}

/** §7.6: unavailable from the old nick with 303 and the new nick, then available from the new. */
function changeNick(svc: MucService, room: Room, occupant: Occupant, ctx: Context): void {
  const nick = ctx.to.resource;
  if (room.occupants.has(nick)) throw new StanzaError("conflict", "That nickname is in use");
  svc.broadcastPresence(room, occupant, ctx, {
    type: "unavailable",
    codes: [303],
    item: { nick },
  });
  room.rename(occupant, nick);
  occupant.presence = ownPresence(ctx.stanza);
  svc.broadcastPresence(room, occupant, ctx);
}

/** §7.14: the occupant's unavailable presence (with its status) to everyone, then it is gone. */
function exit(svc: MucService, room: Room, occupant: Occupant, ctx: Context): void {
  occupant.presence = ctx.stanza.elements.filter((child) => child.is("status"));
  occupant.role = "none";
  svc.broadcastPresence(room, occupant, ctx, { type: "unavailable" });
  room.remove(occupant);
  svc.leftEmpty(room);
}
