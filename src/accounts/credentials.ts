/**
 * SCRAM credentials (RFC 5802 §3, RFC 7677): derived from a password with WebCrypto PBKDF2,
 * stored as `<credentials xmlns="jabberd:credentials">`, and checked for SASL PLAIN without ever
 * keeping the password.
 */
import { createHash, createHmac } from "node:crypto";
import { opaqueString } from "../util/precis.ts";
import { Element } from "../xml/element.ts";

/** The XDB namespace (and element namespace) of a user's credentials. */
export const NS_CREDENTIALS = "jabberd:credentials";

/** The hash functions SCRAM is offered with (SCRAM-SHA-1, SCRAM-SHA-256). */
export type ScramHash = "SHA-1" | "SHA-256";

export const SCRAM_HASHES: readonly ScramHash[] = ["SHA-1", "SHA-256"];

/** PBKDF2 iteration count when the config names none (RFC 7677 §4 asks for at least 4096). */
export const DEFAULT_ITERATIONS = 10000;

/** One hash's stored SCRAM secrets (RFC 5802 §3): never the password itself. */
export interface ScramCredential {
  hash: ScramHash;
  iterations: number;
  salt: Uint8Array;
  storedKey: Uint8Array;
  serverKey: Uint8Array;
}

/** A user's credentials: one SCRAM entry per hash. */
export interface Credentials {
  scram: ScramCredential[];
}

export interface DeriveOptions {
  /** PBKDF2 iterations (default 10000). */
  iterations?: number;
  /** The hashes to derive for (default both). */
  hashes?: readonly ScramHash[];
}

const encoder = new TextEncoder();

function bytes(data: Uint8Array | string): Uint8Array<ArrayBuffer> {
  if (typeof data === "string") return encoder.encode(data);
  return new Uint8Array(data);
}

/** Normalizes a password with RFC 8265's OpaqueString (the successor of SASLprep, RFC 7677). */
export function normalizePassword(password: string): string {
  return opaqueString(password);
}

/**
 * H(data) (RFC 5802 §2.2). Hashes and HMACs use `node:crypto`, which Deno, Deno Deploy and Node
 * all provide: WebCrypto wants a key imported for every HMAC, and that import cost about a tenth
 * of a whole login (measured with `deno task bench --compare --phases=logins`).
 */
export function digest(hash: ScramHash, data: Uint8Array | string): Promise<Uint8Array> {
  return Promise.resolve(new Uint8Array(createHash(NODE_HASH[hash]).update(data).digest()));
}

/** HMAC(key, data) (RFC 5802 §2.2). */
export function hmac(
  hash: ScramHash,
  key: Uint8Array,
  data: Uint8Array | string,
): Promise<Uint8Array> {
  return Promise.resolve(
    new Uint8Array(createHmac(NODE_HASH[hash], key).update(data).digest()),
  );
}

const NODE_HASH: Record<ScramHash, string> = { "SHA-1": "sha1", "SHA-256": "sha256" };

/** SaltedPassword := Hi(Normalize(password), salt, i), Hi being PBKDF2 (RFC 5802 §2.2). */
export async function saltedPassword(
  hash: ScramHash,
  password: string,
  salt: Uint8Array,
  iterations: number,
): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(normalizePassword(password)),
    "PBKDF2",
    false,
    ["deriveBits"],
  );
  const length = hash === "SHA-1" ? 160 : 256;
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash, salt: bytes(salt), iterations },
    key,
    length,
  );
  return new Uint8Array(bits);
}

/** ClientKey, StoredKey and ServerKey from a SaltedPassword (RFC 5802 §3). */
export async function scramKeys(hash: ScramHash, salted: Uint8Array) {
  const clientKey = await hmac(hash, salted, "Client Key");
  const storedKey = await digest(hash, clientKey);
  const serverKey = await hmac(hash, salted, "Server Key");
  return { clientKey, storedKey, serverKey };
}

/** a XOR b, for byte strings of one length. */
export function xor(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length !== b.length) throw new Error("Cannot xor byte strings of different lengths");
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] ^ b[i];
  return out;
}

/**
 * Compares two byte strings in time that depends only on their lengths, so a timing attack
 * cannot learn how many leading bytes of a StoredKey or proof matched.
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false; // lengths are public: the hash fixes them
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** Derives one hash's credential from a password, with a fresh 16-byte salt unless given. */
export async function deriveCredential(
  hash: ScramHash,
  password: string,
  iterations = DEFAULT_ITERATIONS,
  salt: Uint8Array = crypto.getRandomValues(new Uint8Array(16)),
): Promise<ScramCredential> {
  const salted = await saltedPassword(hash, password, salt, iterations);
  const { storedKey, serverKey } = await scramKeys(hash, salted);
  return { hash, iterations, salt: new Uint8Array(salt), storedKey, serverKey };
}

/** Derives the credentials for every hash (SHA-1 and SHA-256 by default), each its own salt. */
export async function deriveCredentials(
  password: string,
  options: DeriveOptions = {},
): Promise<Credentials> {
  const iterations = options.iterations ?? DEFAULT_ITERATIONS;
  if (!Number.isInteger(iterations) || iterations < 1) {
    throw new RangeError(`Iteration count must be a positive integer, got ${iterations}`);
  }
  const scram: ScramCredential[] = [];
  for (const hash of options.hashes ?? SCRAM_HASHES) {
    scram.push(await deriveCredential(hash, password, iterations));
  }
  return { scram };
}

/** The stored entry for a hash, if the user has one. */
export function credentialFor(
  credentials: Credentials,
  hash: ScramHash,
): ScramCredential | undefined {
  return credentials.scram.find((entry) => entry.hash === hash);
}

/** The `<credentials xmlns="jabberd:credentials">` element XDB stores. */
export function credentialsToElement(credentials: Credentials): Element {
  const root = new Element("credentials", { xmlns: NS_CREDENTIALS });
  for (const entry of credentials.scram) {
    root.c("scram", {
      hash: entry.hash,
      iterations: String(entry.iterations),
      salt: entry.salt.toBase64(),
      "stored-key": entry.storedKey.toBase64(),
      "server-key": entry.serverKey.toBase64(),
    }).up();
  }
  return root;
}

/**
 * Reads a stored `<credentials>` element; entries with an unknown hash or broken attributes are
 * skipped (a newer server may have added hashes), so a damaged entry only disables that hash.
 */
export function credentialsFromElement(element: Element): Credentials {
  const scram: ScramCredential[] = [];
  for (const child of element.getChildren("scram")) {
    const hash = child.attrs.hash;
    if (hash !== "SHA-1" && hash !== "SHA-256") continue;
    const iterations = Number(child.attrs.iterations);
    if (!Number.isInteger(iterations) || iterations < 1) continue;
    try {
      scram.push({
        hash,
        iterations,
        salt: Uint8Array.fromBase64(child.attrs.salt ?? ""),
        storedKey: Uint8Array.fromBase64(child.attrs["stored-key"] ?? ""),
        serverKey: Uint8Array.fromBase64(child.attrs["server-key"] ?? ""),
      });
    } catch {
      continue;
    }
  }
  return { scram };
}

/**
 * Checks a password (SASL PLAIN, RFC 4616) against stored credentials: derives SaltedPassword
 * with the stored salt and iterations and compares StoredKey in constant time. Prefers SHA-256.
 */
export async function verifyPlain(credentials: Credentials, password: string): Promise<boolean> {
  const entry = credentialFor(credentials, "SHA-256") ?? credentialFor(credentials, "SHA-1");
  if (!entry) return false;
  let salted: Uint8Array;
  try {
    salted = await saltedPassword(entry.hash, password, entry.salt, entry.iterations);
  } catch {
    return false; // a password OpaqueString refuses can never have been stored
  }
  const { storedKey } = await scramKeys(entry.hash, salted);
  return constantTimeEqual(storedKey, entry.storedKey);
}
