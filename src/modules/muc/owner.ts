/**
 * The `muc#owner` queries (XEP-0045 §10): the room configuration form (`muc#roomconfig`, §10.2)
 * asked for, submitted (which also unlocks a new room, §10.1.2–§10.1.3) or cancelled (which
 * destroys a room still locked), and the destruction of a room (§10.9).
 */
import { StanzaError } from "../../util/errors.ts";
import { NS_DATA_FORMS, NS_MUC_OWNER, NS_MUC_ROOMCONFIG, NS_MUC_USER } from "../../util/ns.ts";
import { type Element, xml } from "../../xml/element.ts";
import { field, form, formBoolean, formValues } from "./form.ts";
import type { AllowPm, Room, RoomConfig } from "./room.ts";
import type { Context, MucService } from "./service.ts";

const F = "muc#roomconfig_";

export function ownerGet(svc: MucService, room: Room, ctx: Context): void {
  svc.requireAffiliation(room, ctx, "owner", "Only owners may configure the room");
  svc.reply(ctx, xml("query", { xmlns: NS_MUC_OWNER }, configForm(room)));
}

export async function ownerSet(
  svc: MucService,
  room: Room,
  query: Element,
  ctx: Context,
): Promise<void> {
  svc.requireAffiliation(room, ctx, "owner", "Only owners may configure the room");
  const destroy = query.getChild("destroy");
  if (destroy) {
    await destroyRoom(svc, room, destroy, ctx);
    svc.reply(ctx);
    return;
  }
  const x = query.getChild("x", NS_DATA_FORMS);
  if (!x) throw new StanzaError("bad-request", "Send the configuration form or <destroy/>");
  if (x.attrs.type === "cancel") {
    // Cancelling the first configuration destroys the new room (§10.1.3).
    if (room.locked) await destroyRoom(svc, room, xml("destroy"), ctx);
    svc.reply(ctx);
    return;
  }
  if (x.attrs.type !== "submit") throw new StanzaError("bad-request", "Submit the form");
  const wasPersistent = room.config.persistent;
  room.config = applyForm(room.config, formValues(x), svc.settings.history);
  const unlocked = room.locked;
  room.locked = false;
  if (room.config.persistent || wasPersistent) await svc.save(room);
  svc.reply(ctx);
  // §10.2.1: occupants hear that the configuration changed (not the creator's first one).
  if (!unlocked) svc.notify(room, [104], ctx);
  svc.leftEmpty(room);
}

/** The configuration form with the room's current values (§10.2, Example 163). */
export function configForm(room: Room): Element {
  const c = room.config;
  const bool = (value: boolean) => [value ? "1" : "0"];
  return form("form", NS_MUC_ROOMCONFIG, [
    field(`${F}roomname`, { type: "text-single", label: "Room name", values: [c.name] }),
    field(`${F}roomdesc`, { type: "text-single", label: "Description", values: [c.description] }),
    field(`${F}persistentroom`, {
      type: "boolean",
      label: "Persistent",
      values: bool(c.persistent),
    }),
    field(`${F}publicroom`, {
      type: "boolean",
      label: "Listed in the directory",
      values: bool(c.public),
    }),
    field(`${F}membersonly`, {
      type: "boolean",
      label: "Members only",
      values: bool(c.membersOnly),
    }),
    field(`${F}moderatedroom`, { type: "boolean", label: "Moderated", values: bool(c.moderated) }),
    field(`${F}passwordprotectedroom`, {
      type: "boolean",
      label: "Password protected",
      values: bool(c.password !== ""),
    }),
    field(`${F}roomsecret`, { type: "text-private", label: "Password", values: [c.password] }),
    field(`${F}whois`, {
      type: "list-single",
      label: "Who may see real JIDs",
      values: [c.whois],
      options: [["moderators", "Moderators only"], ["anyone", "Anyone"]],
    }),
    field(`${F}changesubject`, {
      type: "boolean",
      label: "Occupants may change the subject",
      values: bool(c.changeSubject),
    }),
    field(`${F}allowinvites`, {
      type: "boolean",
      label: "Occupants may invite others",
      values: bool(c.allowInvites),
    }),
    field(`${F}allowpm`, {
      type: "list-single",
      label: "Who may send private messages",
      values: [c.allowPm],
      options: [
        ["anyone", "Anyone"],
        ["participants", "Participants"],
        ["moderators", "Moderators"],
        ["none", "Nobody"],
      ],
    }),
    field(`${F}maxusers`, {
      type: "text-single",
      label: "Maximum occupants (0 for no limit)",
      values: [String(c.maxUsers)],
    }),
    field("muc#maxhistoryfetch", {
      type: "text-single",
      label: "Messages of history sent on entering",
      values: [String(c.maxHistory)],
    }),
  ], "Room configuration");
}

/** The configuration after a submitted form; fields not sent keep their value. */
export function applyForm(
  config: RoomConfig,
  values: Map<string, string[]>,
  historyLimit: number,
): RoomConfig {
  const one = (name: string) => values.get(name)?.[0];
  const flag = (name: string, current: boolean) => formBoolean(one(`${F}${name}`)) ?? current;
  const count = (name: string, current: number, max: number) => {
    const n = Number(one(name));
    return one(name) === undefined || !Number.isInteger(n) || n < 0 ? current : Math.min(n, max);
  };
  const whois = one(`${F}whois`);
  const allowPm = one(`${F}allowpm`);
  const protectedRoom = flag("passwordprotectedroom", config.password !== "");
  const secret = one(`${F}roomsecret`) ?? config.password;
  return {
    name: one(`${F}roomname`) ?? config.name,
    description: one(`${F}roomdesc`) ?? config.description,
    persistent: flag("persistentroom", config.persistent),
    public: flag("publicroom", config.public),
    membersOnly: flag("membersonly", config.membersOnly),
    moderated: flag("moderatedroom", config.moderated),
    password: protectedRoom ? secret : "",
    whois: whois === "anyone" || whois === "moderators" ? whois : config.whois,
    changeSubject: flag("changesubject", config.changeSubject),
    allowInvites: flag("allowinvites", config.allowInvites),
    allowPm:
      (["anyone", "participants", "moderators", "none"] as AllowPm[]).find((v) => v === allowPm) ??
        config.allowPm,
    maxUsers: count(`${F}maxusers`, config.maxUsers, Number.MAX_SAFE_INTEGER),
    maxHistory: count("muc#maxhistoryfetch", config.maxHistory, historyLimit),
  };
}

/**
 * §10.9: every occupant gets unavailable presence with `<destroy>` (the alternate venue and the
 * reason), and the room is gone, from memory and XDB.
 */
async function destroyRoom(svc: MucService, room: Room, destroy: Element, ctx: Context) {
  const notice = xml("destroy", destroy.attrs.jid ? { jid: destroy.attrs.jid } : {});
  const reason = destroy.getChildText("reason");
  if (reason) notice.append(xml("reason", {}, reason));
  for (const occupant of room.occupants.values()) {
    const presence = xml(
      "presence",
      { from: room.address(occupant.nick), to: occupant.jid, type: "unavailable" },
      xml(
        "x",
        { xmlns: NS_MUC_USER },
        xml("item", { affiliation: "none", role: "none" }),
        notice.clone(),
      ),
    );
    svc.send(presence, ctx);
  }
  room.occupants.clear();
  room.byJid.clear();
  svc.rooms.delete(room.jid);
  if (room.config.persistent) {
    room.config.persistent = false;
    await svc.save(room);
  }
}
