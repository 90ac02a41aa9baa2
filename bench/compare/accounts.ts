/**
 * The benchmark accounts (RFC 5802 SCRAM-SHA-1 credentials at 4096 iterations, one salt per
 * account) and the three ways they reach the servers in bulk: a XEP-0227 file for
 * `jabberd import`, a XEP-0227 file with ejabberd's double base64 encoding for
 * `import_piefxis`, and Prosody 0.12's `internal_hashed` store files written directly.
 */
import { createHash, createHmac, pbkdf2 } from "node:crypto";

export const ITERATIONS = 4096;

export interface Account {
  user: string;
  password: string;
  /** The salt as the servers store it (ASCII hex, so Prosody's Lua files can hold it as is). */
  salt: string;
  /** PBKDF2-SHA-1(password, salt, 4096): what a caching SCRAM client keeps. */
  salted: Uint8Array;
  storedKey: Uint8Array;
  serverKey: Uint8Array;
  /** Localparts of the contacts on this account's roster (subscription both), maybe none. */
  contacts: string[];
}

/** Contacts per roster for the accounts made with rosters. */
export const ROSTER_SIZE = 50;

function derive(password: string, salt: string): Promise<Uint8Array> {
  return new Promise((resolve, reject) =>
    pbkdf2(password, salt, ITERATIONS, 20, "sha1", (error, key) => {
      if (error) reject(error);
      else resolve(new Uint8Array(key));
    })
  );
}

/**
 * `count` accounts `{prefix}0`…; derivation runs on libuv's thread pool, about 1 ms each. With
 * `rosters`, accounts come in blocks of ROSTER_SIZE + 1 whose members all have each other on
 * their rosters with subscription both (the last, smaller block only its own members).
 */
export async function makeAccounts(
  count: number,
  prefix = "u",
  rosters = false,
): Promise<Account[]> {
  const block = ROSTER_SIZE + 1;
  const contactsOf = (i: number) => {
    if (!rosters) return [];
    const first = i - (i % block);
    const names: string[] = [];
    for (let k = first; k < Math.min(first + block, count); k++) {
      if (k !== i) names.push(`${prefix}${k}`);
    }
    return names;
  };
  const accounts: Account[] = new Array(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const password = `pw-${i}-${Math.random().toString(36).slice(2, 8)}`;
      const salt = Array.from(crypto.getRandomValues(new Uint8Array(12)))
        .map((b) => b.toString(16).padStart(2, "0")).join("");
      const salted = await derive(password, salt);
      const clientKey = createHmac("sha1", salted).update("Client Key").digest();
      accounts[i] = {
        user: `${prefix}${i}`,
        contacts: contactsOf(i),
        password,
        salt,
        salted,
        storedKey: new Uint8Array(createHash("sha1").update(clientKey).digest()),
        serverKey: new Uint8Array(createHmac("sha1", salted).update("Server Key").digest()),
      };
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  return accounts;
}

const b64 = (bytes: Uint8Array | string) =>
  typeof bytes === "string" ? btoa(bytes) : bytes.toBase64();

/**
 * A XEP-0227 file of the accounts with `<scram-credentials>`; `twice` encodes every value twice
 * as ejabberd does (it keeps them base64-encoded internally).
 */
export function xep0227(domain: string, accounts: Account[], twice: boolean): string {
  const enc = (v: Uint8Array | string) => twice ? btoa(b64(v)) : b64(v);
  const parts = [
    `<?xml version='1.0'?>\n<server-data xmlns='urn:xmpp:pie:0'><host jid='${domain}'>`,
  ];
  for (const a of accounts) {
    parts.push(
      `<user name='${a.user}'><scram-credentials xmlns='urn:xmpp:pie:0#scram' ` +
        `mechanism='SCRAM-SHA-1'><iter-count>${ITERATIONS}</iter-count>` +
        `<salt>${enc(a.salt)}</salt><server-key>${enc(a.serverKey)}</server-key>` +
        `<stored-key>${enc(a.storedKey)}</stored-key></scram-credentials>` +
        rosterQuery(domain, a) + `</user>`,
    );
  }
  parts.push("</host></server-data>\n");
  return parts.join("\n");
}

function rosterQuery(domain: string, a: Account): string {
  if (a.contacts.length === 0) return "";
  const items = a.contacts.map((c) =>
    `<item jid='${c}@${domain}' name='${c}' subscription='both'><group>Bench</group></item>`
  );
  return `<query xmlns='jabber:iq:roster'>${items.join("")}</query>`;
}

const hex = (bytes: Uint8Array) =>
  Array.from(bytes).map((b) => b.toString(16).padStart(2, "0")).join("");

/** Prosody 0.12 `internal_hashed` + `internal` storage: `DATA/<host>/accounts/<user>.dat`. */
export async function writeProsodyAccounts(
  dataDir: string,
  domain: string,
  accounts: Account[],
): Promise<void> {
  // Prosody encodes every non-alphanumeric byte of a path part as %xx.
  const encode = (s: string) =>
    s.replace(/[^A-Za-z0-9]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
  const dir = `${dataDir}/${encode(domain)}/accounts`;
  const rosterDir = `${dataDir}/${encode(domain)}/roster`;
  await Deno.mkdir(dir, { recursive: true });
  await Deno.mkdir(rosterDir, { recursive: true });
  for (const a of accounts) {
    if (a.contacts.length > 0) {
      // mod_roster's store: one entry per contact, `[false]` holds the roster version.
      const items = a.contacts.map((c) =>
        `\t["${c}@${domain}"] = {\n\t\t["groups"] = {\n\t\t\t["Bench"] = true;\n\t\t};\n` +
        `\t\t["name"] = "${c}";\n\t\t["subscription"] = "both";\n\t};\n`
      );
      await Deno.writeTextFile(
        `${rosterDir}/${encode(a.user)}.dat`,
        `return {\n\t[false] = {\n\t\t["version"] = 1;\n\t};\n${items.join("")}};\n`,
      );
    }
    await Deno.writeTextFile(
      `${dir}/${encode(a.user)}.dat`,
      `return {\n\t["iteration_count"] = ${ITERATIONS};\n\t["salt"] = "${a.salt}";\n` +
        `\t["server_key"] = "${hex(a.serverKey)}";\n\t["stored_key"] = "${
          hex(a.storedKey)
        }";\n};\n`,
    );
  }
}
