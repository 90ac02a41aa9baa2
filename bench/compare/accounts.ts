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
}

function derive(password: string, salt: string): Promise<Uint8Array> {
  return new Promise((resolve, reject) =>
    pbkdf2(password, salt, ITERATIONS, 20, "sha1", (error, key) => {
      if (error) reject(error);
      else resolve(new Uint8Array(key));
    })
  );
}

/** `count` accounts `u0`…; derivation runs on libuv's thread pool, about 1 ms each. */
export async function makeAccounts(count: number): Promise<Account[]> {
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
        user: `u${i}`,
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
        `<stored-key>${enc(a.storedKey)}</stored-key></scram-credentials></user>`,
    );
  }
  parts.push("</host></server-data>\n");
  return parts.join("\n");
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
  await Deno.mkdir(dir, { recursive: true });
  for (const a of accounts) {
    await Deno.writeTextFile(
      `${dir}/${encode(a.user)}.dat`,
      `return {\n\t["iteration_count"] = ${ITERATIONS};\n\t["salt"] = "${a.salt}";\n` +
        `\t["server_key"] = "${hex(a.serverKey)}";\n\t["stored_key"] = "${
          hex(a.storedKey)
        }";\n};\n`,
    );
  }
}
