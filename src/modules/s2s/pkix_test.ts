import assert from "node:assert/strict";
import { pemToDer } from "../../adapters/tls_select.ts";
import { makeCertificates } from "../../tls/x509.ts";
import { TrustStore } from "./pkix.ts";

const ours = await makeCertificates(["a.test", "*.wild.test"]);
const theirs = await makeCertificates(["a.test"]);

function store(...pems: string[]): TrustStore {
  const trust = new TrustStore();
  for (const pem of pems) trust.addPem(pem);
  return trust;
}

Deno.test("TrustStore.check() accepts a certificate signed by a trusted CA for a domain it names", async () => {
  assert.equal(await store(ours.ca).check(pemToDer(ours.cert), "a.test"), undefined);
  assert.equal(await store(ours.ca).check(pemToDer(ours.cert), "A.TEST."), undefined);
});

Deno.test("TrustStore.check() refuses a domain the certificate does not name", async () => {
  assert.match(
    (await store(ours.ca).check(pemToDer(ours.cert), "b.test"))!,
    /does not name b\.test/,
  );
});

Deno.test("TrustStore.check() matches a wildcard on one label only (RFC 6125 §6.4.3)", async () => {
  const trust = store(ours.ca);
  assert.equal(await trust.check(pemToDer(ours.cert), "muc.wild.test"), undefined);
  assert.ok(await trust.check(pemToDer(ours.cert), "wild.test"));
  assert.ok(await trust.check(pemToDer(ours.cert), "a.muc.wild.test"));
});

Deno.test("TrustStore.check() refuses a certificate of an untrusted CA with the same names", async () => {
  assert.match(
    (await store(ours.ca).check(pemToDer(theirs.cert), "a.test"))!,
    /not signed by a trusted CA/,
  );
  assert.match((await store().check(pemToDer(ours.cert), "a.test"))!, /not signed/);
});

Deno.test("TrustStore.check() refuses an expired certificate and no certificate", async () => {
  const old = await makeCertificates(["a.test"], new Date("2000-01-01T00:00:00Z"));
  assert.match((await store(old.ca).check(pemToDer(old.cert), "a.test"))!, /expired/);
  assert.match((await store(ours.ca).check(undefined, "a.test"))!, /no certificate/);
});

Deno.test("TrustStore.addPem() reads every certificate of a bundle", () => {
  assert.equal(new TrustStore().addPem(ours.ca + theirs.ca + "junk"), 2);
});
