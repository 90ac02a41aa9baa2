/**
 * The XEP-0114 §3 handshake: the component proves it knows the shared secret by sending the hex
 * SHA-1 of the stream id followed by the secret. node:crypto's SHA-1 is synchronous, so the check
 * happens in the order elements arrive, and its `timingSafeEqual` keeps the comparison constant
 * in time (both sides are hashed again first, so their lengths always match).
 */
import { createHash, timingSafeEqual } from "node:crypto";

/** Lowercase hex SHA-1 of `streamId + secret` (XEP-0114 §3, Example 3). */
export function handshakeDigest(streamId: string, secret: string): string {
  return createHash("sha1").update(streamId + secret, "utf8").digest("hex");
}

/** Whether a received handshake value proves the secret; hex case and whitespace do not matter. */
export function handshakeMatches(received: string, streamId: string, secret: string): boolean {
  const expected = createHash("sha256").update(handshakeDigest(streamId, secret)).digest();
  const got = createHash("sha256").update(received.trim().toLowerCase()).digest();
  return timingSafeEqual(expected, got);
}

/** A fresh stream id: 16 random bytes in hex. */
export function newStreamId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
