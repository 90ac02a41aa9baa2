/**
 * Room archives (XEP-0313 "MUC Archives", XEP-0359 stanza ids): every groupchat message a
 * persistent room broadcasts is stored in the room's archive on XDB (src/mam/, shared with the
 * user archives of the session manager) and broadcast with `<stanza-id by="room@service">`;
 * an iq set `<query xmlns="urn:xmpp:mam:2">` to the room pages through it with XEP-0059 RSM.
 * Temporary rooms keep no archive: it would outlive them in XDB; a persistent room's archive is
 * deleted when the room is destroyed or made temporary.
 * Who may query: occupants, anyone in a public room, only members in a members-only one.
 */
import {
  Archive,
  IdMaker,
  queryAnswer,
  queryForm,
  readQuery,
  stripStanzaIds,
} from "../../mam/mod.ts";
import { describe, StanzaError } from "../../util/errors.ts";
import { JID } from "../../util/jid.ts";
import { NS_SID } from "../../util/ns.ts";
import { type Element, xml } from "../../xml/element.ts";
import { RANK, type Room } from "./room.ts";
import {
  type Context,
  MUC_MESSAGE,
  MUC_ROOM_GONE,
  MUC_ROOM_LOADED,
  type MucMessageEvent,
  type MucRoomGoneEvent,
  type MucRoomLoadedEvent,
  type MucService,
} from "./service.ts";

/** Page sizes: the default when the query gives no `<max>`, and the largest served. */
const LIMITS = { page: 50, maxPage: 250 };

export class RoomArchives {
  readonly #svc: MucService;
  readonly #archive: Archive;
  readonly #ids = new IdMaker();

  constructor(svc: MucService) {
    this.#svc = svc;
    const { api } = svc;
    this.#archive = new Archive(api.xdb, (what, error) => {
      api.log.warn(`Cannot write the room archive (${what}): ${describe(error)}`);
    });
    api.hook<MucMessageEvent>(MUC_MESSAGE, (event) => this.#store(event));
    api.hook<MucRoomGoneEvent>(MUC_ROOM_GONE, ({ room }) => this.#remove(room));
    api.hook<MucRoomLoadedEvent>(MUC_ROOM_LOADED, ({ room }) => this.#loadHistory(room));
    // The writes of messages already broadcast finish before the section stops.
    api.onUnload(() => this.#archive.idle());
  }

  /** True when `room` archives its messages (and says so in disco#info). */
  archives(room: Room): boolean {
    return room.config.persistent;
  }

  /** Stores a message about to be broadcast and stamps it with its archive id. */
  #store(event: MucMessageEvent): void {
    const { stanza } = event;
    // XEP-0359 §3.1: a stanza-id claiming to be the room's was forged by the sender.
    stripStanzaIds(stanza, event.room);
    const room = this.#svc.rooms.get(event.room);
    const sender = JID.tryParse(event.from);
    if (!room || !this.archives(room) || !sender) return;
    if (!this.#archive.fits(stanza)) {
      this.#svc.api.log.debug(`Did not archive a message of ${event.room}: too large`);
      return;
    }
    const id = this.#ids.next(event.stamp);
    this.#archive.add(event.room, id, sender, stanza, event.stamp);
    stanza.append(xml("stanza-id", { xmlns: NS_SID, by: event.room, id }));
  }

  /**
   * Fills the history of a persistent room just read from XDB with its newest archived messages
   * (the history itself lives in memory only), each with its stanza-id as when it was broadcast.
   */
  async #loadHistory(room: Room): Promise<void> {
    if (!this.archives(room) || room.historyLimit === 0) return;
    const last = { before: "", max: room.historyLimit, flip: false, mustExist: [] };
    const limits = { page: room.historyLimit, maxPage: room.historyLimit };
    const page = await this.#archive.page(room.jid, last, limits);
    for (const { id, stamp, message } of page.items) {
      const stanza = message.clone();
      stripStanzaIds(stanza, room.jid);
      stanza.append(xml("stanza-id", { xmlns: NS_SID, by: room.jid, id }));
      room.addHistory(stanza, Date.parse(stamp));
    }
  }

  /** Deletes the archive of a room that left storage, after its writes in flight. */
  async #remove(room: string): Promise<void> {
    await this.#archive.settled(room);
    await this.#archive.trim(room);
  }

  /** The form fields a query may use (XEP-0313 "Retrieving form fields"). */
  form(room: Room, ctx: Context): void {
    this.#mayQuery(room, ctx);
    this.#svc.reply(ctx, queryForm());
  }

  /** One page of the room's archive, each message as broadcast, then `<fin>`. */
  async query(room: Room, query: Element, ctx: Context): Promise<void> {
    this.#mayQuery(room, ctx);
    const read = readQuery(query);
    // The archive knows senders by their real JIDs: a filter on them would unmask the occupants
    // of a semi-anonymous room, and one on occupant JIDs is optional (XEP-0313 "MUC Archives").
    if (read.with !== undefined) {
      throw new StanzaError("feature-not-implemented", "Room archives are not filtered by JID");
    }
    const page = await this.#archive.page(room.jid, read, LIMITS);
    const { messages, fin } = queryAnswer(read, page, room.jid, ctx.from.toString());
    for (const message of messages) this.#svc.send(message, ctx);
    this.#svc.reply(ctx, fin);
  }

  #mayQuery(room: Room, ctx: Context): void {
    const affiliation = this.#svc.affiliation(room, ctx.from.bareString());
    if (affiliation === "outcast") {
      throw new StanzaError("forbidden", "You are banned from this room");
    }
    if (room.config.membersOnly) {
      if (RANK[affiliation] < RANK.member) {
        throw new StanzaError("forbidden", "Only members may read the archive of this room");
      }
      return;
    }
    if (!room.config.public && !room.byJid.has(ctx.from.toString())) {
      throw new StanzaError("forbidden", "Only occupants may read the archive of this room");
    }
  }
}
