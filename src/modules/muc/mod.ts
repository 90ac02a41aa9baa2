/**
 * `<muc xmlns="jabberd:config:muc">` in a `<service>`: an XEP-0045 Multi-User Chat service for the
 * section's hosts (`<host>conference.localhost</host>`). Rooms, occupants and their history live in
 * memory; persistent rooms are kept in XDB, with their message archives (XEP-0313, archive.ts).
 * It uses the module API only, so the same file also runs under `<load thread="worker">` (it
 * exports `register(api)`), `<fork>`, or as an external component.
 *
 * ```xml
 * <service id="muc">
 *   <host>conference.localhost</host>
 *   <muc xmlns="jabberd:config:muc">
 *     <name>Chatrooms</name>        <!-- the service's name in disco#info -->
 *     <history>20</history>         <!-- messages kept per room for history on join -->
 *     <create>anyone</create>       <!-- or admins: who may create rooms -->
 *     <admin>admin@localhost</admin> <!-- owners of every room -->
 *   </muc>
 * </service>
 * ```
 */
import { integer, list, oneOf, options, string } from "../../config/options.ts";
import type { ModuleApi, ModuleDefinition } from "../../server/module_api.ts";
import type { HandlerResult } from "../../tree/handler.ts";
import type { Packet } from "../../tree/packet.ts";
import { describe, StanzaError } from "../../util/errors.ts";
import { bareOf, JID } from "../../util/jid.ts";
import {
  NS_DISCO_INFO,
  NS_DISCO_ITEMS,
  NS_MAM,
  NS_MUC_ADMIN,
  NS_MUC_CONFIG,
  NS_MUC_OWNER,
  NS_PING,
} from "../../util/ns.ts";
import { adminGet, adminSet } from "./admin.ts";
import { RoomArchives } from "./archive.ts";
import { roomInfo, roomItems, serviceInfo, serviceItems } from "./disco.ts";
import { messageToRoom } from "./messages.ts";
import { ownerGet, ownerSet } from "./owner.ts";
import { presenceToRoom } from "./presence.ts";
import type { Room } from "./room.ts";
import { type Context, MucService } from "./service.ts";

const MUC = options({
  name: string("Chatrooms"),
  history: integer(20, { min: 0, max: 1000 }),
  create: oneOf(["anyone", "admins"], "anyone"),
  admin: list(string()),
});

const STANZAS = new Set(["message", "presence", "iq"]);

/** Starts the service on the section's hosts; the entry point of `<load>` too. */
export function register(api: ModuleApi): void {
  const settings = MUC.read(api.config);
  const admins = new Set(settings.admin.map((jid) => bareOf(jid) ?? jid));
  const svc = new MucService(api, { ...settings, admins });
  const archives = new RoomArchives(svc);
  api.handle("deliver", (packet) => deliver(svc, archives, packet));
  // Stanzas already taken finish first (their answers wait for XDB, ROUTING.md R25).
  api.onUnload(() => svc.queue.idle());
}

export const mucModule: ModuleDefinition = {
  element: NS_MUC_CONFIG,
  sections: ["service"],
  validate(element, context) {
    MUC.validate(element, context);
  },
  register,
};

function deliver(
  svc: MucService,
  archives: RoomArchives,
  packet: Packet,
): HandlerResult | Promise<HandlerResult> {
  const stanza = packet.element;
  if (packet.kind !== "normal" || !STANZAS.has(stanza.local)) return "pass";
  // The section's id is a host too (ROUTING.md R7); stanzas to it are not for the service.
  if (!svc.api.servesHost(packet.host)) return "pass";
  const from = JID.tryParse(stanza.attrs.from ?? "");
  const to = JID.tryParse(stanza.attrs.to ?? "");
  if (!from || !to) return "done"; // Nobody to answer, or nothing addressed.
  const ctx: Context = { packet, stanza, from, to };
  const work = to.local === "" ? () => toService(svc, ctx) : () => toRoom(svc, archives, ctx);
  // One room's stanzas are handled in order, each after the previous one's storage (R34).
  return svc.queue.run(to.local === "" ? "" : to.bareString(), work).then(
    () => "done" as const,
    (error) => {
      if (!(error instanceof StanzaError)) {
        svc.api.log.error(`MUC failed on a stanza for ${to}: ${describe(error)}`, to.domain);
      }
      const answer = error instanceof StanzaError
        ? error
        : new StanzaError("internal-server-error");
      svc.replyError(ctx, answer);
      return "done" as const;
    },
  );
}

async function toService(svc: MucService, ctx: Context): Promise<void> {
  const { stanza } = ctx;
  const type = stanza.attrs.type;
  if (stanza.local !== "iq") {
    if (stanza.local === "message") throw new StanzaError("service-unavailable");
    return;
  }
  if (type === "result" || type === "error") return;
  const payload = stanza.elements[0];
  if (type === "get" && payload?.is("query", NS_DISCO_INFO) && !payload.attrs.node) {
    return serviceInfo(svc, ctx);
  }
  if (type === "get" && payload?.is("query", NS_DISCO_ITEMS) && !payload.attrs.node) {
    return await serviceItems(svc, ctx);
  }
  if (type === "get" && payload?.is("ping", NS_PING)) return svc.reply(ctx);
  throw new StanzaError("service-unavailable");
}

async function toRoom(svc: MucService, archives: RoomArchives, ctx: Context): Promise<void> {
  const { stanza, to, from } = ctx;
  if (stanza.local === "presence") return await presenceToRoom(svc, ctx);
  const room = await svc.room(to.bareString());
  const gone = () => new StanzaError("item-not-found", "No such room");
  if (stanza.local === "message") {
    if (!room || (room.locked && !room.byJid.has(from.toString()))) throw gone();
    return await messageToRoom(svc, room, ctx);
  }
  const type = stanza.attrs.type;
  if (to.resource !== "") return occupantIq(svc, room, ctx);
  if (type === "result" || type === "error") return;
  if (!room) throw gone();
  const payload = stanza.elements[0];
  if (type === "get") {
    if (payload?.is("query", NS_DISCO_INFO)) return roomInfo(svc, room, ctx, archives);
    if (payload?.is("query", NS_DISCO_ITEMS)) return roomItems(svc, room, ctx);
    if (payload?.is("query", NS_MUC_ADMIN)) return adminGet(svc, room, payload, ctx);
    if (payload?.is("query", NS_MUC_OWNER)) return ownerGet(svc, room, ctx);
    if (payload?.is("ping", NS_PING)) return svc.reply(ctx);
    if (payload?.is("query", NS_MAM)) return archives.form(room, ctx);
  } else if (type === "set") {
    if (payload?.is("query", NS_MAM)) return await archives.query(room, payload, ctx);
    if (payload?.is("query", NS_MUC_ADMIN)) return await adminSet(svc, room, payload, ctx);
    if (payload?.is("query", NS_MUC_OWNER)) return await ownerSet(svc, room, payload, ctx);
  }
  throw new StanzaError("service-unavailable");
}

/**
 * An iq to an occupant's address (XEP-0045 §17.3 "IQ semantics"): an occupant's ping to its own
 * address is answered by the room (XEP-0410 self-ping); other queries between occupants (vCard,
 * version, ping) are passed on from the asker's occupant address, and their answers back.
 */
function occupantIq(svc: MucService, room: Room | undefined, ctx: Context): void {
  const { stanza, from, to } = ctx;
  const type = stanza.attrs.type;
  const answer = type === "result" || type === "error";
  const sender = room?.byJid.get(from.toString());
  const target = room?.occupants.get(to.resource);
  if (!room || !sender) {
    if (answer) return;
    if (!room) throw new StanzaError("item-not-found", "No such room");
    throw new StanzaError("not-acceptable", "You are not an occupant of this room");
  }
  if (!target) {
    if (answer) return;
    throw new StanzaError("item-not-found", "Nobody has that nickname in this room");
  }
  if (target === sender && type === "get" && stanza.getChild("ping", NS_PING)) {
    return svc.reply(ctx);
  }
  const relayed = stanza.clone();
  relayed.attrs.from = room.address(sender.nick);
  relayed.attrs.to = target.jid;
  svc.send(relayed, ctx);
}
