import assert from "node:assert/strict";
import { pemProblem, readPemBlocks } from "./pem.ts";

const FIXTURES = new URL("../../tests/fixtures/tls/", import.meta.url);
const cert = Deno.readTextFileSync(new URL("localhost.pem", FIXTURES));
const key = Deno.readTextFileSync(new URL("localhost.key", FIXTURES));

Deno.test("1 pemProblem() accepts the test certificate and key files as what they are", () => {
  assert.equal(pemProblem(cert, "certificate"), undefined);
  assert.equal(pemProblem(key, "key"), undefined);
  assert.equal(pemProblem(cert + key, "trust anchors"), undefined);
  assert.equal(readPemBlocks(cert)[0].label, "CERTIFICATE");
});

Deno.test("1 pemProblem() says why a file is not the PEM file it should be", () => {
  assert.match(pemProblem("hello\n", "certificate")!, /holds no PEM block/);
  assert.match(pemProblem(key, "certificate")!, /no CERTIFICATE block, only .*PRIVATE KEY/);
  assert.match(pemProblem(cert, "key")!, /no private key block .* only CERTIFICATE/);
  const broken = "-----BEGIN CERTIFICATE-----\n%%%%\n-----END CERTIFICATE-----\n";
  assert.match(pemProblem(broken, "certificate")!, /CERTIFICATE block is not valid base64/);
  const notDer = `-----BEGIN CERTIFICATE-----\n${btoa("not DER")}\n-----END CERTIFICATE-----\n`;
  assert.match(pemProblem(notDer, "certificate")!, /does not hold DER data/);
});
