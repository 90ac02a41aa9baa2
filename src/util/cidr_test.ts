import assert from "node:assert/strict";
import { inRanges, parseAddress, parseCidr } from "./cidr.ts";

Deno.test("parseCidr() reads IPv4 and IPv6 ranges and bare addresses", () => {
  assert.deepEqual(parseCidr("127.0.0.0/8").bytes, new Uint8Array([127, 0, 0, 0]));
  assert.equal(parseCidr("127.0.0.0/8").prefix, 8);
  assert.equal(parseCidr("192.0.2.1").prefix, 32);
  assert.equal(parseCidr("::1/128").bytes.length, 16);
  assert.equal(parseCidr("::1").prefix, 128);
  assert.equal(parseCidr("fe80::/10").prefix, 10);
  assert.deepEqual(
    parseAddress("::ffff:10.0.0.1")!.slice(10),
    new Uint8Array([255, 255, 10, 0, 0, 1]),
  );
  assert.deepEqual(parseAddress("[2001:db8::1]"), parseAddress("2001:db8:0:0:0:0:0:1"));
  assert.deepEqual(parseAddress("fe80::1%eth0"), parseAddress("fe80::1"));
});

Deno.test("parseCidr() refuses malformed ranges with a sentence", () => {
  for (const bad of ["300.0.0.0/8", "1.2.3/8", "1.2.3.4/33", "::1/129", "1.2.3.4/x", "1::2::3"]) {
    assert.throws(() => parseCidr(bad), /address range|prefix length/, bad);
  }
  assert.throws(() => parseCidr("1.2.3.4/8/9"), /is not an address range/);
  assert.equal(parseAddress("1:2:3:4:5:6:7:8:9"), undefined);
  assert.equal(parseAddress("g::1"), undefined);
});

Deno.test("inRanges() matches by prefix, including prefixes that end inside a byte", () => {
  const ranges = [parseCidr("127.0.0.0/8"), parseCidr("10.16.0.0/12"), parseCidr("::1/128")];
  assert.equal(inRanges("127.255.0.9", ranges), true);
  assert.equal(inRanges("128.0.0.1", ranges), false);
  assert.equal(inRanges("10.31.255.255", ranges), true);
  assert.equal(inRanges("10.32.0.0", ranges), false);
  assert.equal(inRanges("10.15.255.255", ranges), false);
  assert.equal(inRanges("::1", ranges), true);
  assert.equal(inRanges("::2", ranges), false);
  assert.equal(inRanges("not an address", ranges), false);
  assert.equal(inRanges("192.0.2.1", [parseCidr("0.0.0.0/0")]), true);
  assert.equal(inRanges("2001:db8::1", [parseCidr("0.0.0.0/0")]), false);
});

Deno.test("inRanges() matches IPv4-mapped IPv6 addresses against IPv4 ranges", () => {
  const ranges = [parseCidr("127.0.0.0/8")];
  assert.equal(inRanges("::ffff:127.0.0.1", ranges), true);
  assert.equal(inRanges("::ffff:192.0.2.1", ranges), false);
  // Only the ::ffff:0:0/96 prefix is a mapped address.
  assert.equal(inRanges("::fffe:127.0.0.1", ranges), false);
});
