/**
 * User accounts over XDB (the storage formats of issue 3): SCRAM credentials per user, the
 * per-host account list, and deleting everything a user owns. Used by c2s (registration, SASL),
 * the session manager and the CLI; it speaks only through an `XdbClient`.
 */
import type { XdbClient } from "../server/module_api.ts";
import { StanzaError } from "../util/errors.ts";
import { JID } from "../util/jid.ts";
import { Element } from "../xml/element.ts";
import {
  type Credentials,
  credentialsFromElement,
  credentialsToElement,
  deriveCredentials,
  type DeriveOptions,
  NS_CREDENTIALS,
} from "./credentials.ts";

/** The XDB namespace of a host's account list (owner: the host). */
export const NS_USERS = "jabberd:users";

/**
 * Every namespace a user owns in XDB (owner `user@host`). Deleting an account clears all of
 * them, so a feature that stores per-user data adds its namespace here and nowhere else.
 */
export const USER_NAMESPACES: readonly string[] = [
  NS_CREDENTIALS,
  "jabber:iq:roster",
  "jabber:x:offline",
  "vcard-temp",
  "jabber:iq:private",
  "jabber:iq:last",
  "urn:xmpp:blocking",
];

export type AccountOptions = Pick<DeriveOptions, "iterations">;

/** The bare account JID of `jid` (a string or JID); a JID without localpart is refused. */
function accountOf(jid: JID | string): JID {
  let parsed: JID;
  try {
    parsed = typeof jid === "string" ? JID.parse(jid) : jid;
  } catch (error) {
    throw new StanzaError("jid-malformed", (error as Error).message);
  }
  if (parsed.local === "") throw new StanzaError("jid-malformed", "An account needs a localpart");
  return parsed.bare;
}

/** Escapes a value for an xdb `match` (ROUTING.md: `&`, `=`, `%` as `%26`, `%3D`, `%25`). */
function matchValue(value: string): string {
  return value.replace(/[%&=]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function userMatch(local: string): string {
  return `user?name=${matchValue(local)}`;
}

/** The stored credentials of an account, or undefined when it does not exist. */
export async function getCredentials(
  xdb: XdbClient,
  jid: JID | string,
): Promise<Credentials | undefined> {
  const element = await xdb.get(accountOf(jid).toString(), NS_CREDENTIALS);
  return element ? credentialsFromElement(element) : undefined;
}

/** True when the account has credentials. */
export async function accountExists(xdb: XdbClient, jid: JID | string): Promise<boolean> {
  return (await xdb.get(accountOf(jid).toString(), NS_CREDENTIALS)) !== undefined;
}

/**
 * Creates an account: credentials for every SCRAM hash, and the entry in the host's list.
 * Fails with `conflict` when it exists. Two creations racing for one name may both pass the
 * check; the later credentials win and the list holds the name once (insert by match).
 */
export async function createAccount(
  xdb: XdbClient,
  jid: JID | string,
  password: string,
  options: AccountOptions = {},
): Promise<JID> {
  const account = accountOf(jid);
  if (await accountExists(xdb, account)) {
    throw new StanzaError("conflict", "The account already exists");
  }
  const credentials = await derive(password, options);
  await xdb.set(account.toString(), NS_CREDENTIALS, credentialsToElement(credentials));
  await xdb.insert(
    account.domain,
    NS_USERS,
    new Element("user", { name: account.local }),
    userMatch(account.local),
  );
  return account;
}

/**
 * Replaces an account's credentials; fails with `item-not-found` when it does not exist. Without
 * `iterations` the new credentials keep the old ones' count, so whoever changes a password (the
 * session manager, which cannot see c2s's `<scram iterations>`) keeps what the operator chose.
 */
export async function setPassword(
  xdb: XdbClient,
  jid: JID | string,
  password: string,
  options: AccountOptions = {},
): Promise<void> {
  const account = accountOf(jid);
  const old = await getCredentials(xdb, account);
  if (!old) throw new StanzaError("item-not-found", "No such account");
  const kept = Math.max(0, ...old.scram.map((entry) => entry.iterations));
  const iterations = options.iterations ?? (kept > 0 ? kept : undefined);
  const credentials = await derive(password, { iterations });
  await xdb.set(account.toString(), NS_CREDENTIALS, credentialsToElement(credentials));
}

/**
 * Deletes an account and everything it owns (`USER_NAMESPACES`) and takes it off the host's
 * list; fails with `item-not-found` when it does not exist. Credentials go first, so a crash
 * half-way leaves no account that can log in.
 */
export async function deleteAccount(xdb: XdbClient, jid: JID | string): Promise<void> {
  const account = accountOf(jid);
  if (!(await accountExists(xdb, account))) {
    throw new StanzaError("item-not-found", "No such account");
  }
  for (const ns of USER_NAMESPACES) await xdb.set(account.toString(), ns, undefined);
  await xdb.remove(account.domain, NS_USERS, userMatch(account.local));
}

/** The bare JIDs (`user@host`) of a host's accounts, in stored order. */
export async function listAccounts(xdb: XdbClient, host: string): Promise<string[]> {
  const list = await xdb.get(host, NS_USERS);
  if (!list) return [];
  return list.getChildren("user").map((user) => user.attrs.name).filter((name) => !!name)
    .map((name) => `${name}@${host}`);
}

async function derive(password: string, options: AccountOptions): Promise<Credentials> {
  try {
    return await deriveCredentials(password, { iterations: options.iterations });
  } catch (error) {
    if (error instanceof RangeError) throw error;
    throw new StanzaError("not-acceptable", "The password is empty or has forbidden characters");
  }
}
