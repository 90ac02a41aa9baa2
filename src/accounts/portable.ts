/**
 * Moves XEP-0227 users (xep0227.ts) into and out of XDB in the storage formats of issue 3:
 * credentials, the host's account list, roster (with pending requests), vCard, private XML and
 * offline messages. Used by `jabberd import` and `jabberd export`.
 */
import type { XdbClient } from "../server/module_api.ts";
import { JID } from "../util/jid.ts";
import {
  NS_CLIENT,
  NS_DELAY,
  NS_OFFLINE,
  NS_PRIVATE,
  NS_ROSTER,
  NS_ROSTER_PENDING,
  NS_VCARD,
} from "../util/ns.ts";
import { Element } from "../xml/element.ts";
import {
  type Credentials,
  credentialsFromElement,
  credentialsToElement,
  deriveCredentials,
  NS_CREDENTIALS,
} from "./credentials.ts";
import { NS_USERS } from "./store.ts";
import type { PieUser } from "./xep0227.ts";

export interface ImportUserOptions {
  /** PBKDF2 iterations for credentials derived from a plain-text password. */
  iterations: number;
  /** The time stamped on offline messages that carry no `<delay>` (ms since the epoch). */
  now: number;
}

/** The normalized bare JID of a file's user; throws with a sentence when it is not valid. */
export function accountJid(user: Pick<PieUser, "name" | "host">): JID {
  const jid = JID.tryParse(`${user.name}@${user.host}`);
  if (!jid || jid.local === "" || jid.resource !== "") {
    throw new Error(`${user.name}@${user.host} is not a valid account address`);
  }
  return jid;
}

/**
 * The credentials a file's user gets: derived from a plain-text password for every hash, else
 * the SCRAM credentials the file carries as they are (a SCRAM-SHA-1-only file gives SCRAM-SHA-1
 * only: SCRAM-SHA-256 then waits for the next password change). Throws when there are none.
 */
export async function credentialsOf(user: PieUser, iterations: number): Promise<Credentials> {
  if (user.password !== undefined) {
    return await deriveCredentials(user.password, { iterations });
  }
  if (user.scram.length > 0) return { scram: user.scram };
  throw new Error(`${user.name}@${user.host} has neither a password nor SCRAM credentials`);
}

/**
 * Stores one user. Data goes first and the credentials and list entry last, so an import that
 * stops half-way leaves no account that can log in with part of its data. The writes of one
 * step are issued together: the store merges them (and those of other users) into few commits.
 *
 * The caller has checked that the account does not exist, so its name is appended to the host's
 * list without a match: an insert by match reads the whole list for every account, which makes
 * a 10,000-account import quadratic.
 */
export async function importUser(
  xdb: XdbClient,
  user: PieUser,
  credentials: Credentials,
  options: Pick<ImportUserOptions, "now">,
): Promise<JID> {
  const jid = accountJid(user);
  const owner = jid.bareString();
  const writes: Promise<void>[] = [];
  if (user.rosterItems.length > 0 || user.pendingIn.length > 0) {
    writes.push(xdb.set(owner, NS_ROSTER, rosterElement(user, owner)));
  }
  if (user.vcard) writes.push(xdb.set(owner, NS_VCARD, user.vcard));
  if (user.privateXml.length > 0) {
    const query = new Element("query", { xmlns: NS_PRIVATE });
    for (const element of user.privateXml) {
      query.c("item", { key: `${element.local} ${element.ns}` }).append(element.clone());
    }
    writes.push(xdb.set(owner, NS_PRIVATE, query));
  }
  if (user.offline.length > 0) {
    const query = new Element("query", { xmlns: NS_OFFLINE });
    const stamp = new Date(options.now).toISOString();
    for (const message of user.offline) {
      const copy = message.clone();
      copy.attrs.xmlns ??= NS_CLIENT;
      copy.attrs.to ??= owner;
      if (!copy.getChild("delay", NS_DELAY)) {
        copy.append(new Element("delay", { xmlns: NS_DELAY, from: jid.domain, stamp }));
      }
      query.append(copy);
    }
    writes.push(xdb.set(owner, NS_OFFLINE, query));
  }
  await Promise.all(writes);
  await Promise.all([
    xdb.set(owner, NS_CREDENTIALS, credentialsToElement(credentials)),
    xdb.insert(jid.domain, NS_USERS, new Element("user", { name: jid.local })),
  ]);
  return jid;
}

/** The stored roster: items as the file has them, and pending requests as roster_store keeps them. */
function rosterElement(user: PieUser, owner: string): Element {
  const query = new Element("query", { xmlns: NS_ROSTER });
  const seen = new Set<string>();
  for (const item of user.rosterItems) {
    const contact = JID.tryParse(item.attrs.jid ?? "");
    if (!contact || seen.has(contact.bareString())) continue;
    seen.add(contact.bareString());
    const copy = item.clone();
    copy.attrs.jid = contact.bareString();
    copy.attrs.xmlns = NS_ROSTER;
    query.append(copy);
  }
  for (const from of user.pendingIn) {
    const contact = JID.tryParse(from);
    if (!contact) continue;
    const jid = contact.bareString();
    query.c("pending", { xmlns: NS_ROSTER_PENDING, jid })
      .c("presence", { xmlns: NS_CLIENT, type: "subscribe", from: jid, to: owner });
  }
  return query;
}

/** Reads one account back as a XEP-0227 user (no password: only its SCRAM credentials). */
export async function exportUser(xdb: XdbClient, jid: JID): Promise<PieUser | undefined> {
  const owner = jid.bareString();
  const [credentials, roster, vcard, privateXml, offline] = await Promise.all([
    xdb.get(owner, NS_CREDENTIALS),
    xdb.get(owner, NS_ROSTER),
    xdb.get(owner, NS_VCARD),
    xdb.get(owner, NS_PRIVATE),
    xdb.get(owner, NS_OFFLINE),
  ]);
  if (!credentials) return undefined;
  return {
    host: jid.domain,
    name: jid.local,
    scram: credentialsFromElement(credentials).scram,
    rosterItems: roster?.getChildren("item") ?? [],
    pendingIn: (roster?.getChildren("pending", NS_ROSTER_PENDING) ?? [])
      .map((pending) => pending.attrs.jid).filter((from): from is string => !!from),
    vcard,
    privateXml: (privateXml?.getChildren("item") ?? [])
      .map((item) => item.elements[0]).filter((element) => element !== undefined),
    offline: offline?.getChildren("message") ?? [],
    ignored: [],
  };
}
