/**
 * Messages to a room (XEP-0045 §7.4 groupchat, §8.1 subject, §7.8 mediated invitations and
 * declines) and to an occupant (§7.5 private messages).
 */
import { StanzaError } from "../../util/errors.ts";
import { NS_MUC_USER } from "../../util/ns.ts";
import { xml } from "../../xml/element.ts";
import { bareOfFull, type Occupant, RANK, type Room } from "./room.ts";
import { type Context, MUC_MESSAGE, type MucMessageEvent, type MucService } from "./service.ts";

export async function messageToRoom(svc: MucService, room: Room, ctx: Context): Promise<void> {
  const { stanza, from, to } = ctx;
  const type = stanza.attrs.type ?? "normal";
  const sender = room.byJid.get(from.toString());
  if (type === "error") return; // A bounce from an occupant's client: nothing to answer.
  if (to.resource !== "") return privateMessage(svc, room, sender, ctx);
  if (type === "groupchat") return await groupchat(svc, room, sender, ctx);
  const x = stanza.getChild("x", NS_MUC_USER);
  const invite = x?.getChild("invite");
  if (invite) {
    return await inviteTo(svc, room, sender, invite.attrs.to, invite.getChildText("reason"), ctx);
  }
  const decline = x?.getChild("decline");
  if (decline?.attrs.to) {
    const forwarded = xml("decline", { from: from.bareString() });
    const reason = decline.getChildText("reason");
    if (reason) forwarded.append(xml("reason", {}, reason));
    svc.send(
      xml(
        "message",
        { from: room.jid, to: decline.attrs.to },
        xml("x", { xmlns: NS_MUC_USER }, forwarded),
      ),
      ctx,
    );
    return;
  }
  throw new StanzaError("not-acceptable", "Send groupchat messages to the room");
}

async function groupchat(svc: MucService, room: Room, sender: Occupant | undefined, ctx: Context) {
  const { stanza } = ctx;
  if (!sender) throw new StanzaError("not-acceptable", "Only occupants may send to the room");
  if (sender.role === "visitor" || sender.role === "none") {
    throw new StanzaError("forbidden", "Visitors may not speak in this moderated room");
  }
  const message = stanza.clone();
  delete message.attrs.to;
  message.attrs.from = room.address(sender.nick);
  const subject = stanza.getChild("subject");
  const stamp = svc.api.timer.now();
  if (subject && stanza.getChild("body") === undefined) {
    if (!room.config.changeSubject && sender.role !== "moderator") {
      throw new StanzaError("forbidden", "Only moderators may change the subject of this room");
    }
    room.subject = { text: subject.text(), nick: sender.nick, stamp };
    if (room.config.persistent) await svc.save(room);
    svc.broadcast(room, message, ctx);
    return;
  }
  if (stanza.getChild("body") !== undefined) {
    const event: MucMessageEvent = {
      room: room.jid,
      nick: sender.nick,
      from: sender.jid,
      stanza: message,
      stamp,
    };
    // The room archive (archive.ts) stores it and adds its stanza-id, which history keeps too.
    await svc.api.fire(MUC_MESSAGE, event);
    room.addHistory(message, stamp);
  }
  svc.broadcast(room, message, ctx);
}

function privateMessage(svc: MucService, room: Room, sender: Occupant | undefined, ctx: Context) {
  const { stanza, to } = ctx;
  if (!sender) throw new StanzaError("not-acceptable", "Only occupants may send private messages");
  if (stanza.attrs.type === "groupchat") {
    throw new StanzaError("bad-request", "A private message is not of type groupchat");
  }
  const allowed = room.config.allowPm;
  if (
    allowed === "none" ||
    (allowed === "participants" && sender.role !== "participant" && sender.role !== "moderator") ||
    (allowed === "moderators" && sender.role !== "moderator")
  ) {
    throw new StanzaError("forbidden", "Private messages are not allowed in this room");
  }
  const target = room.occupants.get(to.resource);
  if (!target) throw new StanzaError("item-not-found", "Nobody has that nickname in this room");
  const copy = stanza.clone();
  copy.attrs.from = room.address(sender.nick);
  copy.attrs.to = target.jid;
  // §7.5: the service adds the muc#user extension so the recipient knows it came through a room.
  if (!copy.getChild("x", NS_MUC_USER)) copy.append(xml("x", { xmlns: NS_MUC_USER }));
  svc.send(copy, ctx);
}

/** §7.8.2: the room invites `invitee` on the sender's behalf. */
async function inviteTo(
  svc: MucService,
  room: Room,
  sender: Occupant | undefined,
  invitee: string | undefined,
  reason: string | undefined,
  ctx: Context,
) {
  if (!invitee) throw new StanzaError("bad-request", "An invitation names who is invited");
  if (!sender) throw new StanzaError("not-acceptable", "Only occupants may invite");
  const affiliation = svc.affiliation(room, bareOfFull(sender.jid));
  const privileged = RANK[affiliation] >= RANK.admin || sender.role === "moderator";
  if (!room.config.allowInvites && !privileged) {
    throw new StanzaError("forbidden", "Only moderators may invite to this room");
  }
  if (room.config.membersOnly) {
    // §7.8.2: in a members-only room the invitation makes the invitee a member.
    const bare = bareOfFull(invitee);
    if (RANK[room.affiliationOf(bare)] < RANK.member) {
      room.setAffiliation(bare, "member");
      if (room.config.persistent) await svc.save(room);
    }
  }
  const invite = xml("invite", { from: ctx.from.toString() });
  if (reason) invite.append(xml("reason", {}, reason));
  const x = xml("x", { xmlns: NS_MUC_USER }, invite);
  if (room.config.password !== "") x.append(xml("password", {}, room.config.password));
  svc.send(xml("message", { from: room.jid, to: invitee }, x), ctx);
}
