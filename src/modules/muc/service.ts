/**
 * The MUC service of one section (XEP-0045): its rooms, in memory and, for persistent ones, in
 * XDB through `api.xdb`; the queue that handles one room's stanzas in order; and what every part
 * uses to answer: occupant presence with the `muc#user` item and status codes (§7.2.3), broadcast
 * to the room, and error replies. Only the module API is used, so the service runs the same
 * in-process, in a worker, in a `<fork>` child or behind an external component link.
 */
import type { ModuleApi } from "../../server/module_api.ts";
import { xdbMatch } from "../../server/xdb_client.ts";
import type { Packet } from "../../tree/packet.ts";
import { errorReply, StanzaError } from "../../util/errors.ts";
import type { JID } from "../../util/jid.ts";
import { NS_MUC, NS_MUC_ROOM, NS_MUC_ROOMS, NS_MUC_USER } from "../../util/ns.ts";
import { type Element, xml } from "../../xml/element.ts";
import { KeyedQueue } from "../../util/keyed_queue.ts";
import {
  type Affiliation,
  bareOfFull,
  defaultConfig,
  type Occupant,
  RANK,
  Room,
  type RoomConfig,
} from "./room.ts";

export interface MucSettings {
  /** The service's name in disco#info. */
  name: string;
  /** How many messages each room keeps for history on join. */
  history: number;
  /** Who may create rooms. */
  create: "anyone" | "admins";
  /** Service administrators: owners of every room (§5.2). */
  admins: ReadonlySet<string>;
}

/**
 * The event fired (`api.fire`) for every groupchat message the room broadcast, with
 * `MucMessageEvent`: the seam for a room archive (XEP-0313 for MUC), which would hook it in this
 * section and store the message before it is answered.
 */
export const MUC_MESSAGE = "muc-message";

export interface MucMessageEvent {
  room: string;
  nick: string;
  /** The real full JID of the sender. */
  from: string;
  /** The message as broadcast (`from` room/nick, no `to`). */
  stanza: Element;
  stamp: number;
}

/**
 * The event fired with `MucRoomGoneEvent` when a persistent room leaves storage (destroyed, or
 * made temporary), so that what is kept for it, its archive, goes too; awaited before the answer.
 */
export const MUC_ROOM_GONE = "muc-room-gone";

export interface MucRoomGoneEvent {
  room: string;
}

/**
 * The event fired (and awaited) with `MucRoomLoadedEvent` when a persistent room is read from XDB
 * into memory (a first use since the service started, say after a restart of its process): the
 * room archive (archive.ts) fills the room's discussion history from its newest messages, so the
 * history on entering survives a restart as the room does.
 */
export const MUC_ROOM_LOADED = "muc-room-loaded";

export interface MucRoomLoadedEvent {
  room: Room;
}

/** One stanza being handled: the packet (the cause of what is sent), addresses parsed. */
export interface Context {
  packet: Packet;
  stanza: Element;
  from: JID;
  to: JID;
}

export class MucService {
  readonly api: ModuleApi;
  readonly settings: MucSettings;
  readonly rooms = new Map<string, Room>();
  readonly queue = new KeyedQueue();

  constructor(api: ModuleApi, settings: MucSettings) {
    this.api = api;
    this.settings = settings;
  }

  /** The room in memory, else the persistent room read from XDB, else undefined. */
  async room(jid: string): Promise<Room | undefined> {
    const known = this.rooms.get(jid);
    if (known) return known;
    const stored = await this.api.xdb.get(jid, NS_MUC_ROOM);
    if (!stored) return undefined;
    // Another job may have made it meanwhile (disco#items reads rooms outside the room queue).
    const raced = this.rooms.get(jid);
    if (raced) return raced;
    const room = Room.fromElement(jid, stored, this.defaults(jid), this.settings.history);
    await this.api.fire<MucRoomLoadedEvent>(MUC_ROOM_LOADED, { room });
    // Loading the history awaited XDB too: the first one to finish wins, as above.
    const loaded = this.rooms.get(jid);
    if (loaded) return loaded;
    this.rooms.set(jid, room);
    return room;
  }

  /** A new room, locked, with `creator` as its owner (§10.1.1). */
  create(jid: string, creator: string): Room {
    const room = new Room(jid, this.defaults(jid), this.settings.history);
    room.setAffiliation(creator, "owner");
    room.locked = true;
    this.rooms.set(jid, room);
    return room;
  }

  /** A new room's configuration: named after its local part (§10.1.2 leaves the name open). */
  defaults(jid: string): RoomConfig {
    return defaultConfig(jid.slice(0, Math.max(jid.indexOf("@"), 0)), this.settings.history);
  }

  mayCreate(from: JID): boolean {
    return this.settings.create === "anyone" || this.settings.admins.has(from.bareString());
  }

  /** The affiliation of `bare`, service admins counting as owners of every room (§5.2). */
  affiliation(room: Room, bare: string): Affiliation {
    return this.settings.admins.has(bare) ? "owner" : room.affiliationOf(bare);
  }

  /**
   * Stores a persistent room (and lists it under the service's domain), or removes a room that
   * is not persistent any more. Answers wait for it (src/tree/ROUTING.md R34).
   */
  async save(room: Room): Promise<void> {
    const domain = room.jid.slice(room.jid.indexOf("@") + 1);
    const match = xdbMatch("room", { jid: room.jid });
    if (room.config.persistent) {
      await this.api.xdb.set(room.jid, NS_MUC_ROOM, room.toElement());
      await this.api.xdb.insert(domain, NS_MUC_ROOMS, xml("room", { jid: room.jid }), match);
    } else {
      await this.api.xdb.set(room.jid, NS_MUC_ROOM, undefined);
      await this.api.xdb.remove(domain, NS_MUC_ROOMS, match);
      await this.api.fire<MucRoomGoneEvent>(MUC_ROOM_GONE, { room: room.jid });
    }
  }

  /** Forgets a room that became empty; a persistent one is read again from XDB when needed. */
  leftEmpty(room: Room): void {
    if (room.occupants.size === 0 && (!room.config.persistent || room.locked)) {
      this.rooms.delete(room.jid);
    }
  }

  /** The JIDs of the persistent rooms of `domain`. */
  async storedRooms(domain: string): Promise<string[]> {
    const list = await this.api.xdb.get(domain, NS_MUC_ROOMS);
    return (list?.getChildren("room") ?? []).map((r) => r.attrs.jid).filter((j) => j);
  }

  send(stanza: Element, ctx: Context): void {
    this.api.deliver(stanza, ctx.packet);
  }

  /** Answers `stanza` with an error from the address it was sent to (RFC 6120 §8.2). */
  replyError(ctx: Context, error: StanzaError): void {
    const reply = errorReply(ctx.stanza, error);
    if (reply) this.send(reply, ctx);
  }

  /** Answers an iq with a result carrying `payload`. */
  reply(ctx: Context, payload?: Element): void {
    const { stanza } = ctx;
    const attrs: Record<string, string> = { type: "result", id: stanza.attrs.id ?? "" };
    if (stanza.attrs.from) attrs.to = stanza.attrs.from;
    if (stanza.attrs.to) attrs.from = stanza.attrs.to;
    const result = xml("iq", attrs);
    if (payload) result.append(payload);
    this.send(result, ctx);
  }

  /**
   * The presence of `occupant` as `receiver` sees it (§7.2.3): its own presence children, and a
   * `muc#user` item with affiliation and role, the real JID when the room shows it to the
   * receiver, then `extra` children (actor, reason) and the status codes.
   */
  presenceOf(
    room: Room,
    occupant: Occupant,
    receiver: Occupant,
    options: { type?: string; codes?: number[]; item?: Record<string, string>; extra?: Element[] } =
      {},
  ): Element {
    const attrs: Record<string, string> = { from: room.address(occupant.nick), to: receiver.jid };
    if (options.type) attrs.type = options.type;
    const presence = xml("presence", attrs);
    if (options.type !== "unavailable") {
      for (const child of occupant.presence) presence.append(child.clone());
    } else {
      for (const child of occupant.presence) if (child.is("status")) presence.append(child.clone());
    }
    const item: Record<string, string> = {
      affiliation: this.affiliation(room, bareOfFull(occupant.jid)),
      role: occupant.role,
      ...options.item,
    };
    // Its own JID is no secret to the occupant itself.
    const shown = room.config.whois === "anyone" || receiver.role === "moderator" ||
      receiver === occupant;
    if (shown) item.jid = occupant.jid;
    const x = xml("x", { xmlns: NS_MUC_USER }, xml("item", item, ...(options.extra ?? [])));
    for (const code of options.codes ?? []) x.append(xml("status", { code: String(code) }));
    presence.append(x);
    return presence;
  }

  /**
   * Sends `occupant`'s presence to every occupant: the others first, then itself with status 110
   * and `selfCodes` (§7.2.3 "the service MUST send the new occupant's own presence last").
   */
  broadcastPresence(
    room: Room,
    occupant: Occupant,
    ctx: Context,
    options: {
      type?: string;
      codes?: number[];
      selfCodes?: number[];
      item?: Record<string, string>;
      extra?: Element[];
    } = {},
  ): void {
    for (const other of room.occupants.values()) {
      if (other !== occupant) this.send(this.presenceOf(room, occupant, other, options), ctx);
    }
    const codes = [110, ...(options.selfCodes ?? []), ...(options.codes ?? [])];
    this.send(this.presenceOf(room, occupant, occupant, { ...options, codes }), ctx);
  }

  /** Sends a copy of `stanza` to every occupant, `from` the room or one of its nicks. */
  broadcast(room: Room, stanza: Element, ctx: Context): void {
    for (const occupant of room.occupants.values()) {
      const copy = stanza.clone();
      copy.attrs.to = occupant.jid;
      this.send(copy, ctx);
    }
  }

  /** A message with status codes from the room to its occupants (§10.2.1: 104 and the like). */
  notify(room: Room, codes: number[], ctx: Context): void {
    const x = xml("x", { xmlns: NS_MUC_USER });
    for (const code of codes) x.append(xml("status", { code: String(code) }));
    this.broadcast(room, xml("message", { from: room.jid, type: "groupchat" }, x), ctx);
  }

  /** Removes `occupant` with unavailable presence, as a kick, ban or removal does (§9). */
  evict(
    room: Room,
    occupant: Occupant,
    ctx: Context,
    code: number,
    affiliation: Affiliation,
    extra: Element[],
  ): void {
    occupant.role = "none";
    this.broadcastPresence(room, occupant, ctx, {
      type: "unavailable",
      codes: [code],
      item: { affiliation },
      extra,
    });
    room.remove(occupant);
    this.leftEmpty(room);
  }

  /** Throws unless the sender's affiliation is at least `needed`. */
  requireAffiliation(room: Room, ctx: Context, needed: Affiliation, text: string): Affiliation {
    const affiliation = this.affiliation(room, ctx.from.bareString());
    if (RANK[affiliation] < RANK[needed]) throw new StanzaError("forbidden", text);
    return affiliation;
  }
}

/** The `<x xmlns="…muc">` of a join, if the client sent one (XEP-0045 §7.2.1). */
export function joinElement(stanza: Element): Element | undefined {
  return stanza.getChild("x", NS_MUC);
}

/** `<actor nick/>` and `<reason>` of an admin change, as the presence item carries them (§9). */
export function actorAndReason(actorNick: string | undefined, reason: string | undefined) {
  const extra: Element[] = [];
  if (actorNick !== undefined) extra.push(xml("actor", { nick: actorNick }));
  if (reason) extra.push(xml("reason", {}, reason));
  return extra;
}
