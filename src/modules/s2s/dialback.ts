/**
 * Server Dialback keys (XEP-0185 §3): HMAC-SHA256 keyed with the hex SHA-256 of the secret, over
 * `{Receiving Server} {Originating Server} {Stream ID}`, hex encoded. Only the authoritative
 * server recomputes its own keys, so the secret never leaves it (XEP-0220 §2.1.1).
 */

const encoder = new TextEncoder();

function hex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The dialback key the originating server sends for a stream. */
export async function dialbackKey(
  secret: string,
  receiving: string,
  originating: string,
  streamId: string,
): Promise<string> {
  const hashed = hex(await crypto.subtle.digest("SHA-256", encoder.encode(secret)));
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(hashed),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const text = `${receiving} ${originating} ${streamId}`;
  return hex(await crypto.subtle.sign("HMAC", key, encoder.encode(text)));
}

/** Compares two keys in time independent of where they differ. */
export function sameKey(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}

/** A fresh secret for `<secret>` when the config has none: 32 random bytes, hex. */
export function makeSecret(): string {
  return hex(crypto.getRandomValues(new Uint8Array(32)).buffer);
}
