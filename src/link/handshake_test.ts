/** Tests of the XEP-0114 handshake digest and its constant-time check. */
import assert from "node:assert/strict";
import { handshakeDigest, handshakeMatches, newStreamId } from "./handshake.ts";

Deno.test("handshakeDigest() is the hex SHA-1 of stream id + secret (XEP-0114 §3)", () => {
  // sha1("3BF96D32" + "s3cr3t"), computed independently with `printf %s 3BF96D32s3cr3t | sha1sum`.
  assert.equal(handshakeDigest("3BF96D32", "s3cr3t"), "ba33290100f616a33656a931798d6c9011cfa840");
  assert.match(handshakeDigest("id", "secret"), /^[0-9a-f]{40}$/);
});

Deno.test("handshakeMatches() accepts the right digest in any case and refuses others", () => {
  const id = newStreamId();
  assert.match(id, /^[0-9a-f]{32}$/);
  const digest = handshakeDigest(id, "secret");
  assert.equal(handshakeMatches(digest, id, "secret"), true);
  assert.equal(handshakeMatches(` ${digest.toUpperCase()}\n`, id, "secret"), true);
  assert.equal(handshakeMatches(handshakeDigest(id, "wrong"), id, "secret"), false);
  assert.equal(handshakeMatches("", id, "secret"), false);
  assert.equal(handshakeMatches(digest.slice(1), id, "secret"), false);
});
