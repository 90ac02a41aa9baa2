import assert from "node:assert/strict";
import {
  constantTimeEqual,
  credentialsFromElement,
  credentialsToElement,
  deriveCredential,
  deriveCredentials,
  hmac,
  saltedPassword,
  type ScramHash,
  scramKeys,
  verifyPlain,
  xor,
} from "./credentials.ts";

/** Computes ClientProof and ServerSignature as RFC 5802 §3 defines them. */
async function proofAndSignature(
  hash: ScramHash,
  password: string,
  salt: string,
  iterations: number,
  authMessage: string,
) {
  const salted = await saltedPassword(hash, password, Uint8Array.fromBase64(salt), iterations);
  const { clientKey, storedKey, serverKey } = await scramKeys(hash, salted);
  const clientSignature = await hmac(hash, storedKey, authMessage);
  const serverSignature = await hmac(hash, serverKey, authMessage);
  return {
    proof: xor(clientKey, clientSignature).toBase64(),
    signature: serverSignature.toBase64(),
  };
}

Deno.test("SCRAM-SHA-1 math matches the RFC 5802 §5 example", async () => {
  const authMessage = "n=user,r=fyko+d2lbbFgONRv9qkxdawL," +
    "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096," +
    "c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j";
  const got = await proofAndSignature("SHA-1", "pencil", "QSXCR+Q6sek8bf92", 4096, authMessage);
  assert.equal(got.proof, "v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=");
  assert.equal(got.signature, "rmF9pqV8S7suAoZWja4dJRkFsKQ=");
});

Deno.test("SCRAM-SHA-256 math matches the RFC 7677 §3 example", async () => {
  const nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
  const authMessage = `n=user,r=rOprNGfwEbeRWgbNEkqO,r=${nonce},` +
    `s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=${nonce}`;
  const got = await proofAndSignature(
    "SHA-256",
    "pencil",
    "W22ZaJ0SNY7soEsUEjb6gQ==",
    4096,
    authMessage,
  );
  assert.equal(got.proof, "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
  assert.equal(got.signature, "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
});

Deno.test("deriveCredentials() makes one entry per hash with its own salt and the iterations", async () => {
  const credentials = await deriveCredentials("secret", { iterations: 4096 });
  assert.deepEqual(credentials.scram.map((e) => [e.hash, e.iterations]), [
    ["SHA-1", 4096],
    ["SHA-256", 4096],
  ]);
  assert.equal(credentials.scram[0].storedKey.length, 20);
  assert.equal(credentials.scram[1].storedKey.length, 32);
  assert.notDeepEqual(credentials.scram[0].salt, credentials.scram[1].salt);
  await assert.rejects(deriveCredentials("secret", { iterations: 0 }), RangeError);
});

Deno.test("deriveCredential() with the RFC 7677 salt gives the StoredKey the example implies", async () => {
  const salt = Uint8Array.fromBase64("W22ZaJ0SNY7soEsUEjb6gQ==");
  const entry = await deriveCredential("SHA-256", "pencil", 4096, salt);
  const salted = await saltedPassword("SHA-256", "pencil", salt, 4096);
  const keys = await scramKeys("SHA-256", salted);
  assert.deepEqual(entry.storedKey, keys.storedKey);
  assert.deepEqual(entry.serverKey, keys.serverKey);
});

Deno.test("credentialsToElement() and credentialsFromElement() round-trip the stored form", async () => {
  const credentials = await deriveCredentials("secret", { iterations: 1000 });
  const element = credentialsToElement(credentials);
  assert.equal(element.attrs.xmlns, "jabberd:credentials");
  const scram = element.getChildren("scram");
  assert.deepEqual(scram.map((e) => e.attrs.hash), ["SHA-1", "SHA-256"]);
  assert.ok(!element.toString().includes("secret"));
  assert.deepEqual(credentialsFromElement(element), credentials);
});

Deno.test("credentialsFromElement() skips entries with an unknown hash or broken attributes", async () => {
  const element = credentialsToElement(await deriveCredentials("x", { iterations: 100 }));
  element.c("scram", {
    hash: "MD5",
    iterations: "1",
    salt: "",
    "stored-key": "",
    "server-key": "",
  });
  element.getChildren("scram")[0].attrs.iterations = "many";
  const got = credentialsFromElement(element);
  assert.deepEqual(got.scram.map((e) => e.hash), ["SHA-256"]);
});

Deno.test("verifyPlain() accepts the password and refuses any other", async () => {
  const credentials = await deriveCredentials("correct horse", { iterations: 1000 });
  assert.equal(await verifyPlain(credentials, "correct horse"), true);
  assert.equal(await verifyPlain(credentials, "correct hors"), false);
  assert.equal(await verifyPlain(credentials, ""), false);
  assert.equal(await verifyPlain({ scram: [] }, "correct horse"), false);
  const sha1Only = { scram: credentials.scram.filter((e) => e.hash === "SHA-1") };
  assert.equal(await verifyPlain(sha1Only, "correct horse"), true);
});

Deno.test("verifyPlain() normalizes with OpaqueString, so a non-ASCII space equals U+0020", async () => {
  const credentials = await deriveCredentials("a b", { iterations: 100 });
  assert.equal(await verifyPlain(credentials, "a\u00a0b"), true);
});

Deno.test("constantTimeEqual() compares content and length", () => {
  assert.equal(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2])), true);
  assert.equal(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3])), false);
  assert.equal(constantTimeEqual(new Uint8Array([1]), new Uint8Array([1, 2])), false);
});
