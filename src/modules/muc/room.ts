/**
 * One XEP-0045 room: its configuration (§10.2), affiliations (§5.2), occupants with their roles
 * (§5.1), discussion history (§7.2.15) and subject (§8.1), and the element a persistent room is
 * stored as in XDB (`jabberd:muc:room`, owned by the room's bare JID).
 */
import { NS_MUC_ROOM } from "../../util/ns.ts";
import { Element, xml } from "../../xml/element.ts";

export type Affiliation = "owner" | "admin" | "member" | "outcast" | "none";
export type Role = "moderator" | "participant" | "visitor" | "none";
export const AFFILIATIONS: readonly Affiliation[] = ["owner", "admin", "member", "outcast", "none"];
export const ROLES: readonly Role[] = ["moderator", "participant", "visitor", "none"];

/** The order of affiliations (§5.2): who may act on whom. */
export const RANK: Readonly<Record<Affiliation, number>> = {
  outcast: -1,
  none: 0,
  member: 1,
  admin: 2,
  owner: 3,
};

/** Who may send private messages to other occupants (`muc#roomconfig_allowpm`). */
export type AllowPm = "anyone" | "participants" | "moderators" | "none";

/** The room configuration of §10.2, as the `muc#roomconfig` form sets it. */
export interface RoomConfig {
  name: string;
  description: string;
  persistent: boolean;
  public: boolean;
  membersOnly: boolean;
  moderated: boolean;
  /** The room password; "" for a room without one (`muc#roomconfig_passwordprotectedroom`). */
  password: string;
  /** Who sees occupants' real JIDs: a semi-anonymous or a non-anonymous room (§4.1). */
  whois: "moderators" | "anyone";
  changeSubject: boolean;
  allowInvites: boolean;
  allowPm: AllowPm;
  /** How many messages of history a new occupant gets at most (`muc#maxhistoryfetch`). */
  maxHistory: number;
  /** How many occupants at most; 0 for no limit (`muc#roomconfig_maxusers`). */
  maxUsers: number;
}

export function defaultConfig(name: string, maxHistory: number): RoomConfig {
  return {
    name,
    description: "",
    persistent: false,
    public: true,
    membersOnly: false,
    moderated: false,
    password: "",
    whois: "moderators",
    changeSubject: false,
    allowInvites: false,
    allowPm: "anyone",
    maxHistory,
    maxUsers: 0,
  };
}

export interface Occupant {
  nick: string;
  /** The occupant's real full JID, normalized. */
  jid: string;
  role: Role;
  /** The children of its last available presence, without the MUC extensions. */
  presence: Element[];
}

export interface HistoryEntry {
  /** The message as the room broadcast it (`from` the room/nick), without `to`. */
  stanza: Element;
  stamp: number;
  /** Its length as XML, which `maxchars` counts (§7.2.15). */
  chars: number;
}

export interface Subject {
  text: string;
  /** The nick that set it; "" when the room itself did. */
  nick: string;
  stamp: number;
}

export class Room {
  /** The room's bare JID, normalized. */
  readonly jid: string;
  config: RoomConfig;
  /** By bare JID; "none" is never stored. */
  readonly affiliations = new Map<string, Affiliation>();
  /** By nick. */
  readonly occupants = new Map<string, Occupant>();
  /** By real full JID. */
  readonly byJid = new Map<string, Occupant>();
  history: HistoryEntry[] = [];
  subject: Subject | undefined;
  /** A new room stays locked until its owner submits the configuration (§10.1.1). */
  locked = false;
  /** How many history entries the service keeps per room at most. */
  readonly historyLimit: number;

  constructor(jid: string, config: RoomConfig, historyLimit: number) {
    this.jid = jid;
    this.config = config;
    this.historyLimit = historyLimit;
  }

  affiliationOf(bare: string): Affiliation {
    return this.affiliations.get(bare) ?? "none";
  }

  setAffiliation(bare: string, affiliation: Affiliation): void {
    if (affiliation === "none") this.affiliations.delete(bare);
    else this.affiliations.set(bare, affiliation);
  }

  /** The bare JIDs with `affiliation`. */
  withAffiliation(affiliation: Affiliation): string[] {
    return [...this.affiliations].filter(([, a]) => a === affiliation).map(([jid]) => jid);
  }

  /** The role an occupant with `affiliation` gets on entering (§5.1.2). */
  defaultRole(affiliation: Affiliation): Role {
    if (RANK[affiliation] >= RANK.admin) return "moderator";
    if (this.config.moderated && affiliation === "none") return "visitor";
    return "participant";
  }

  add(occupant: Occupant): void {
    this.occupants.set(occupant.nick, occupant);
    this.byJid.set(occupant.jid, occupant);
  }

  remove(occupant: Occupant): void {
    this.occupants.delete(occupant.nick);
    this.byJid.delete(occupant.jid);
  }

  rename(occupant: Occupant, nick: string): void {
    this.occupants.delete(occupant.nick);
    occupant.nick = nick;
    this.occupants.set(nick, occupant);
  }

  /** The occupants whose real JID has this bare JID. */
  occupantsOf(bare: string): Occupant[] {
    return [...this.occupants.values()].filter((o) => bareOfFull(o.jid) === bare);
  }

  addHistory(stanza: Element, stamp: number): void {
    if (this.historyLimit === 0) return;
    this.history.push({ stanza, stamp, chars: stanza.toString().length });
    if (this.history.length > this.historyLimit) this.history.splice(0, 1);
  }

  /** The address of an occupant of this room. */
  address(nick: string): string {
    return nick === "" ? this.jid : `${this.jid}/${nick}`;
  }

  /** The stored form of a persistent room: configuration, affiliations, subject. */
  toElement(): Element {
    const c = this.config;
    const room = xml("room", { xmlns: NS_MUC_ROOM });
    room.append(xml("config", {
      name: c.name,
      description: c.description,
      persistent: String(c.persistent),
      public: String(c.public),
      "members-only": String(c.membersOnly),
      moderated: String(c.moderated),
      password: c.password,
      whois: c.whois,
      "change-subject": String(c.changeSubject),
      "allow-invites": String(c.allowInvites),
      "allow-pm": c.allowPm,
      "max-history": String(c.maxHistory),
      "max-users": String(c.maxUsers),
    }));
    for (const [jid, affiliation] of this.affiliations) {
      room.append(xml("affiliation", { jid, affiliation }));
    }
    if (this.subject) {
      const { text, nick, stamp } = this.subject;
      room.append(xml("subject", { nick, stamp: String(stamp) }, text));
    }
    return room;
  }

  /** A room read back from its stored form; what is missing keeps the defaults. */
  static fromElement(jid: string, stored: Element, defaults: RoomConfig, limit: number): Room {
    const room = new Room(jid, { ...defaults }, limit);
    const a = stored.getChild("config")?.attrs ?? {};
    const flag = (name: string, fallback: boolean) =>
      a[name] === undefined ? fallback : a[name] === "true";
    const number = (name: string, fallback: number) => {
      const n = Number(a[name]);
      return a[name] === undefined || !Number.isInteger(n) || n < 0 ? fallback : n;
    };
    const c = room.config;
    room.config = {
      name: a.name ?? c.name,
      description: a.description ?? c.description,
      persistent: flag("persistent", true),
      public: flag("public", c.public),
      membersOnly: flag("members-only", c.membersOnly),
      moderated: flag("moderated", c.moderated),
      password: a.password ?? "",
      whois: a.whois === "anyone" ? "anyone" : "moderators",
      changeSubject: flag("change-subject", c.changeSubject),
      allowInvites: flag("allow-invites", c.allowInvites),
      allowPm:
        (["anyone", "participants", "moderators", "none"] as const).find((v) =>
          v === a["allow-pm"]
        ) ?? c.allowPm,
      maxHistory: number("max-history", c.maxHistory),
      maxUsers: number("max-users", c.maxUsers),
    };
    for (const item of stored.getChildren("affiliation")) {
      const affiliation = AFFILIATIONS.find((v) => v === item.attrs.affiliation);
      if (item.attrs.jid && affiliation) room.setAffiliation(item.attrs.jid, affiliation);
    }
    const subject = stored.getChild("subject");
    if (subject) {
      room.subject = {
        text: subject.text(),
        nick: subject.attrs.nick ?? "",
        stamp: Number(subject.attrs.stamp) || 0,
      };
    }
    return room;
  }
}

/** The bare part of a normalized full JID. */
export function bareOfFull(full: string): string {
  const slash = full.indexOf("/");
  return slash === -1 ? full : full.slice(0, slash);
}
