// Tests for JID parsing, validation and normalization (RFC 7622).
import assert from "node:assert/strict";
import { bareOf, domainOf, JID, JidError } from "./jid.ts";

function parts(text: string): [string, string, string] {
  const j = JID.parse(text);
  return [j.local, j.domain, j.resource];
}

function assertMalformed(text: string, message: RegExp): void {
  assert.throws(
    () => JID.parse(text),
    (e: unknown) => {
      assert.ok(e instanceof JidError, `${JSON.stringify(text)} threw ${e}`);
      assert.equal(e.condition, "jid-malformed");
      assert.match(e.message, message, JSON.stringify(text));
      assert.match(e.message, /^[A-Z]/);
      assert.doesNotMatch(e.message, /\.$/);
      return true;
    },
  );
  assert.equal(JID.tryParse(text), undefined);
}

// --- Splitting (RFC 7622 §3.1-3.4) ---------------------------------------------------------------

Deno.test("JID.parse() splits localpart, domainpart and resourcepart", () => {
  assert.deepEqual(parts("juliet@example.com/balcony"), ["juliet", "example.com", "balcony"]);
  assert.deepEqual(parts("juliet@example.com"), ["juliet", "example.com", ""]);
  assert.deepEqual(parts("example.com/balcony"), ["", "example.com", "balcony"]);
  assert.deepEqual(parts("example.com"), ["", "example.com", ""]);
});

Deno.test("JID.parse() splits the resourcepart at the first '/' before looking for '@'", () => {
  assert.deepEqual(parts("juliet@example.com/foo@bar/baz"), [
    "juliet",
    "example.com",
    "foo@bar/baz",
  ]);
  // An '@' after the first '/' belongs to the resourcepart, so there is no localpart here.
  assert.deepEqual(parts("example.com/juliet@example.org"), [
    "",
    "example.com",
    "juliet@example.org",
  ]);
});

Deno.test("JID.parse() takes the domainpart after the first '@', so a second '@' is malformed", () => {
  assertMalformed("a@b@example.com", /^Domainpart contains the disallowed character '@'$/);
});

Deno.test("JID.parse() refuses an empty localpart with jid-malformed", () => {
  assertMalformed("@example.com", /^Localpart is empty although '@' is present$/);
  assertMalformed("@example.com/r", /Localpart is empty/);
});

Deno.test("JID.parse() refuses an empty resourcepart with jid-malformed", () => {
  assertMalformed("juliet@example.com/", /^Resourcepart is empty although '\/' is present$/);
  assertMalformed("example.com/", /Resourcepart is empty/);
});

Deno.test("JID.parse() refuses an empty domainpart with jid-malformed", () => {
  assertMalformed("", /^Domainpart is empty$/);
  assertMalformed("juliet@", /^Domainpart is empty$/);
  assertMalformed("juliet@/r", /^Domainpart is empty$/);
  assertMalformed("/r", /^Domainpart is empty$/);
  assertMalformed(".", /^Domainpart is empty$/);
});

// --- Localpart: UsernameCaseMapped (RFC 7622 §3.3, RFC 8265 §3.3) --------------------------------

Deno.test("JID.parse() lower-cases the localpart with toLowerCase, not case folding", () => {
  assert.equal(JID.parse("JuLiEt@example.com").local, "juliet");
  assert.equal(JID.parse("\u00c9LODIE@example.com").local, "\u00e9lodie");
  assert.equal(JID.parse("STRA\u00dfE@example.com").local, "stra\u00dfe");
  assert.equal(JID.parse("\u03a3\u0391\u03a3@example.com").local, "\u03c3\u03b1\u03c2");
});

Deno.test("JID.parse() width-maps fullwidth letters in the localpart", () => {
  assert.equal(JID.parse("\uff2a\uff55\uff4c\uff49\uff45\uff54@example.com").local, "juliet");
});

Deno.test("JID.parse() normalizes the localpart to NFC", () => {
  const decomposed = JID.parse("jos\u0065\u0301@example.com");
  assert.equal(decomposed.local, "jos\u00e9");
  assert.ok(decomposed.equals(JID.parse("JOS\u00c9@example.com")));
});

Deno.test("JID.parse() refuses the characters RFC 7622 forbids in a localpart", () => {
  for (const c of ['"', "&", "'", ":", "<", ">"]) {
    assertMalformed(
      `a${c}b@example.com`,
      new RegExp(`^Localpart contains the forbidden character`),
    );
  }
  // '/' and '@' cannot reach the localpart through parse(); the constructor still refuses them.
  assert.throws(() => new JID("a/b", "example.com"), /forbidden character '\/'/);
  assert.throws(() => new JID("a@b", "example.com"), /forbidden character '@'/);
  // Fullwidth forms of forbidden characters are width-mapped first, then refused.
  assertMalformed("a\uff06b@example.com", /forbidden character '&'/);
});

Deno.test("JID.parse() refuses spaces and controls in a localpart", () => {
  assertMalformed("jul iet@example.com", /^Localpart contains the disallowed code point U\+0020$/);
  assertMalformed("jul\tiet@example.com", /U\+0009/);
  assertMalformed("jul\u00a0iet@example.com", /U\+00A0/);
  assertMalformed("jul\u3000iet@example.com", /U\+0020/); // ideographic space maps to U+0020
  assertMalformed("jul\u007fiet@example.com", /U\+007F/);
});

Deno.test("JID.parse() refuses localpart code points IdentifierClass disallows", () => {
  assertMalformed("\u2163@example.com", /disallowed code point U\+2163/); // compatibility form
  assertMalformed("\u2603@example.com", /disallowed code point U\+2603/); // symbol
  assertMalformed("a\u200bb@example.com", /U\+200B/); // default ignorable
  assertMalformed("\u1100\u1161@example.com", /U\+1100/); // old Hangul jamo
  assertMalformed("a\u0378@example.com", /unassigned code point U\+0378/);
  assertMalformed("a\u0640b@example.com", /U\+0640/); // Exceptions: DISALLOWED
  assertMalformed("a\ue000@example.com", /U\+E000/); // private use
});

Deno.test("JID.parse() applies the RFC 5892 context rules to the localpart", () => {
  assert.equal(JID.parse("col\u00b7lecci\u00f3@example.com").local, "col\u00b7lecci\u00f3");
  assertMalformed("a\u00b7b@example.com", /U\+00B7 outside the context RFC 5892 allows/);
  assertMalformed("a\u200db@example.com", /U\+200D outside the context/);
});

Deno.test("JID.parse() applies the Bidi Rule to a right-to-left localpart", () => {
  assert.equal(JID.parse("\u05e8\u05d5\u05de\u05d9\u05d5@example.com").local.length, 5);
  assertMalformed("\u05d0juliet@example.com", /^Localpart breaks the Bidi Rule of RFC 5893/);
});

// --- Domainpart (RFC 7622 §3.2) -----------------------------------------------------------------

Deno.test("JID.parse() lower-cases the domainpart and strips one trailing dot", () => {
  assert.equal(JID.parse("juliet@EXAMPLE.Com").domain, "example.com");
  assert.equal(JID.parse("juliet@example.com./r").domain, "example.com");
  assert.ok(JID.parse("juliet@example.com.").equals(JID.parse("juliet@example.com")));
  assertMalformed("juliet@example.com..", /empty label/);
});

Deno.test("JID.parse() maps width, ideographic full stops and NFC in the domainpart", () => {
  assert.equal(JID.parse("\uff25\uff38\u3002com").domain, "ex.com");
  assert.equal(JID.parse("bu\u0308cher.example").domain, "b\u00fccher.example");
  assert.equal(JID.parse("B\u00dcCHER.example").domain, "b\u00fccher.example");
});

Deno.test("JID.parse() turns A-labels into U-labels and refuses broken ones", () => {
  assert.equal(JID.parse("xn--bcher-kva.example").domain, "b\u00fccher.example");
  assert.equal(JID.parse("XN--BCHER-KVA.example").domain, "b\u00fccher.example");
  assert.ok(JID.parse("a@xn--bcher-kva.example").equals(JID.parse("a@b\u00fccher.example")));
  assertMalformed("xn--zz.example", /label "xn--zz" is not a valid A-label/);
  assertMalformed("xn--abc-.example", /A-label|malformed/);
  assertMalformed("xn--example-.com", /A-label|malformed/);
});

Deno.test("JID.parse() refuses domain labels that are empty, too long or badly hyphenated", () => {
  assertMalformed("a..example", /^Domainpart contains an empty label$/);
  assertMalformed(".example", /empty label/);
  assertMalformed(`${"a".repeat(64)}.example`, /longer than 63 octets/);
  assert.equal(JID.parse(`${"a".repeat(63)}.example`).domain.length, 71);
  assertMalformed("-a.example", /starts or ends with a hyphen/);
  assertMalformed("a-.example", /starts or ends with a hyphen/);
  assertMalformed("ab--c.example", /reserved "--"/);
  assert.equal(JID.parse("a-b--c.example").domain, "a-b--c.example");
  // A U-label whose A-label exceeds 63 octets.
  assertMalformed(`${"\u00e9".repeat(60)}.example`, /longer than 63 octets as an A-label/);
});

Deno.test("JID.parse() refuses domain characters outside letters, digits and hyphen", () => {
  assertMalformed("a_b.example", /disallowed character '_'/);
  assertMalformed("a b.example", /disallowed character ' '/);
  assertMalformed("exa\tmple.com", /'\t'/);
  assertMalformed("\u2603.example", /disallowed code point U\+2603/);
  assertMalformed("\u2163.example", /U\+2173/); // lower-cased to U+2173 first, still refused
  assertMalformed("a\u200bb.example", /U\+200B/);
  assertMalformed("\u0301a.example", /starts with a combining mark/);
  assert.equal(JID.parse("\u0440\u0444.example").domain, "\u0440\u0444.example");
  assert.equal(
    JID.parse("\u4f8b\u3048.\u30c6\u30b9\u30c8").domain,
    "\u4f8b\u3048.\u30c6\u30b9\u30c8",
  );
});

Deno.test("JID.parse() applies the Bidi Rule across a right-to-left domainpart", () => {
  assert.equal(
    JID.parse("\u0628\u0627.\u0645\u0635\u0631").domain,
    "\u0628\u0627.\u0645\u0635\u0631",
  );
  assert.equal(JID.parse("\u05d0\u05d1.example").domain, "\u05d0\u05d1.example");
  assertMalformed("\u05d0a.example", /^Domainpart label "\u05d0a" breaks the Bidi Rule/);
  // Once one label is right-to-left, a left-to-right label must end strongly too.
  assertMalformed("\u05d0\u05d1.a-1-.example", /hyphen|Bidi/);
  assertMalformed("\u05d0\u05d1.1a.example", /label "1a" breaks the Bidi Rule/);
});

Deno.test("JID.parse() accepts dotted-quad IPv4 domainparts and refuses malformed ones", () => {
  assert.equal(JID.parse("juliet@192.0.2.1/r").domain, "192.0.2.1");
  assert.equal(JID.parse("0.0.0.0").domain, "0.0.0.0");
  assert.equal(JID.parse("192.0.2.1.").domain, "192.0.2.1");
  assertMalformed("192.0.2.256", /^Domainpart "192.0.2.256" is not a valid IPv4 address$/);
  assertMalformed("192.0.2", /not a valid IPv4 address/);
  assertMalformed("192.0.2.1.5", /not a valid IPv4 address/);
  assertMalformed("192.0.02.1", /not a valid IPv4 address/);
  // A name with a numeric label is still a name.
  assert.equal(JID.parse("1.example").domain, "1.example");
});

Deno.test("JID.parse() normalizes bracketed IPv6 domainparts to RFC 5952 form", () => {
  assert.equal(JID.parse("juliet@[::1]/r").domain, "[::1]");
  assert.equal(JID.parse("[2001:DB8:0:0:0:0:0:1]").domain, "[2001:db8::1]");
  assert.equal(JID.parse("[2001:db8:0:0:1:0:0:1]").domain, "[2001:db8::1:0:0:1]");
  assert.equal(JID.parse("[0:0:0:0:0:0:0:0]").domain, "[::]");
  assert.equal(JID.parse("[::ffff:192.0.2.1]").domain, "[::ffff:c000:201]");
  assert.equal(JID.parse("juliet@[::1]/r").toString(), "juliet@[::1]/r");
  assertMalformed("[::1", /^Domainpart "\[::1" is not a valid IPv6 address$/);
  assertMalformed("::1", /disallowed character ':'/);
  assertMalformed("[fe80::1%eth0]", /not a valid IPv6 address/);
  assertMalformed("[1:2:3:4:5:6:7:8:9]", /not a valid IPv6 address/);
  assertMalformed("[::g]", /not a valid IPv6 address/);
  assertMalformed("[1::2::3]", /not a valid IPv6 address/);
  assertMalformed("[]", /not a valid IPv6 address/);
});

// --- Resourcepart: OpaqueString (RFC 7622 §3.4, RFC 8265 §4.2) ----------------------------------

Deno.test("JID.parse() keeps the case and width of the resourcepart", () => {
  assert.equal(JID.parse("juliet@example.com/Balcony").resource, "Balcony");
  assert.equal(JID.parse("juliet@example.com/\uff32").resource, "\uff32");
  assert.ok(!JID.parse("a@b/R").equals(JID.parse("a@b/r")));
});

Deno.test("JID.parse() allows spaces and symbols in the resourcepart and maps other spaces", () => {
  assert.equal(JID.parse("a@b/my phone \u2603").resource, "my phone \u2603");
  assert.equal(JID.parse("a@b/a\u00a0b\u2003c").resource, "a b c");
  assert.equal(JID.parse("a@b/ ").resource, " ");
});

Deno.test("JID.parse() normalizes the resourcepart to NFC", () => {
  assert.equal(JID.parse("a@b/caf\u0065\u0301").resource, "caf\u00e9");
});

Deno.test("JID.parse() refuses controls and other disallowed code points in the resourcepart", () => {
  assertMalformed("a@b/x\ty", /^Resourcepart contains the disallowed code point U\+0009$/);
  assertMalformed("a@b/x\u0000", /U\+0000/);
  assertMalformed("a@b/x\u200by", /U\+200B/);
  assertMalformed("a@b/x\u2028y", /U\+2028/);
  assertMalformed("a@b/x\ud800y", /U\+D800/);
  assertMalformed("a@b/x\u0378", /unassigned/);
});

// --- Lengths (RFC 7622 §3.1) --------------------------------------------------------------------

Deno.test("JID.parse() refuses parts longer than 1023 octets of UTF-8", () => {
  assert.equal(JID.parse(`${"a".repeat(1023)}@example.com`).local.length, 1023);
  assertMalformed(`${"a".repeat(1024)}@example.com`, /^Localpart is longer than 1023 octets$/);
  assert.equal(JID.parse(`${"\u00e9".repeat(511)}@example.com`).local.length, 511);
  assertMalformed(`${"\u00e9".repeat(512)}@example.com`, /Localpart is longer/);
  // Counted after normalization: 512 decomposed "e + U+0301" are 1536 octets before NFC and 1024
  // after, still too long; 511 are 1022 after.
  assert.equal(JID.parse(`${"e\u0301".repeat(511)}@example.com`).local.length, 511);
  assert.equal(JID.parse(`${"\u4e2d".repeat(341)}@example.com`).local.length, 341);
  assertMalformed(`${"\u4e2d".repeat(342)}@example.com`, /Localpart is longer/);
  assert.equal(JID.parse(`a@b/${"x".repeat(1023)}`).resource.length, 1023);
  assertMalformed(`a@b/${"x".repeat(1024)}`, /^Resourcepart is longer than 1023 octets$/);
  assertMalformed(`a@b/${"\u{1f600}".repeat(256)}`, /Resourcepart is longer/);
  const label = "a".repeat(63);
  const domain = Array.from({ length: 16 }, () => label).join("."); // 1023 octets
  assert.equal(JID.parse(domain).domain.length, 1023);
  assertMalformed(`${domain}a`, /longer than 63 octets/);
  assertMalformed(`b.${domain}`, /^Domainpart is longer than 1023 octets$/);
});

// --- Constructor and methods --------------------------------------------------------------------

Deno.test("new JID() validates and normalizes its parts like parse()", () => {
  const j = new JID("Juliet", "Example.COM.", "Balcony");
  assert.equal(j.toString(), "juliet@example.com/Balcony");
  assert.ok(j.equals(JID.parse("juliet@example.com/Balcony")));
  assert.equal(new JID("", "example.com").toString(), "example.com");
  assert.throws(() => new JID("a b", "example.com"), JidError);
  assert.throws(() => new JID("a", ""), /Domainpart is empty/);
  assert.throws(() => new JID("a", "b/c"), /disallowed character '\/'/);
  assert.throws(() => new JID("a", "b", "x\ty"), JidError);
});

Deno.test("JID.tryParse() returns undefined for a malformed JID and the JID otherwise", () => {
  assert.equal(JID.tryParse("@example.com"), undefined);
  assert.equal(JID.tryParse("a@b/c")?.toString(), "a@b/c");
});

Deno.test("JID.bare, isBare, bareString() and withResource() derive related addresses", () => {
  const full = JID.parse("Juliet@Example.com/Balcony");
  assert.equal(full.isBare, false);
  assert.equal(full.bare.toString(), "juliet@example.com");
  assert.equal(full.bare.isBare, true);
  assert.ok(full.bare instanceof JID);
  assert.equal(full.bareString(), "juliet@example.com");
  const bare = full.bare;
  assert.equal(bare.bare, bare);
  assert.equal(full.withResource("Garden").toString(), "juliet@example.com/Garden");
  assert.equal(full.withResource("caf\u0065\u0301").resource, "caf\u00e9");
  assert.equal(full.withResource("").toString(), "juliet@example.com");
  assert.throws(() => full.withResource("a\tb"), JidError);
  assert.equal(JID.parse("example.com/r").bareString(), "example.com");
});

Deno.test("JID.equals() compares normalized parts", () => {
  assert.ok(JID.parse("JULIET@EXAMPLE.COM/r").equals(JID.parse("juliet@example.com./r")));
  assert.ok(!JID.parse("juliet@example.com/r").equals(JID.parse("juliet@example.com")));
  assert.ok(!JID.parse("juliet@example.com").equals(JID.parse("romeo@example.com")));
  assert.ok(!JID.parse("juliet@example.com").equals(JID.parse("juliet@example.org")));
  assert.ok(!JID.parse("example.com").equals(JID.parse("juliet@example.com")));
});

Deno.test("JID.parse() of toString() gives back an equal JID", () => {
  for (
    const text of [
      "Juliet@Example.com/Balcony",
      "\uff2a\uff35\uff2c\uff29\uff25\uff34@xn--bcher-kva.example/caf\u0065\u0301",
      "\u03a3\u0391\u03a3@[2001:DB8::1]/a@b/c",
      "\u05e8\u05d5\u05de\u05d9\u05d5@\u0628\u0627.\u0645\u0635\u0631/\u00a0x",
      "example.com.",
    ]
  ) {
    const once = JID.parse(text);
    const twice = JID.parse(once.toString());
    assert.ok(once.equals(twice), text);
    assert.equal(twice.toString(), once.toString());
  }
});

Deno.test("JidError carries the jid-malformed condition", () => {
  const e = new JidError("Domainpart is empty");
  assert.ok(e instanceof Error);
  assert.equal(e.condition, "jid-malformed");
  assert.equal(e.name, "JidError");
  assert.equal(e.message, "Domainpart is empty");
});

// --- domainOf ----------------------------------------------------------------------------------

Deno.test("domainOf() returns the lower-cased domain without the trailing dot", () => {
  assert.equal(domainOf("juliet@Example.COM./balcony"), "example.com");
  assert.equal(domainOf("example.com"), "example.com");
  assert.equal(domainOf("example.com/a@b.org"), "example.com");
  assert.equal(domainOf("juliet@example.com/x@evil.org/y"), "example.com");
  assert.equal(domainOf("[::1]"), "[::1]");
});

Deno.test("domainOf() agrees with JID.parse() on internationalized domains", () => {
  for (
    const text of ["a@xn--bcher-kva.example", "a@B\u00dcCHER.example.", "\uff25\uff38\u3002com"]
  ) {
    assert.equal(domainOf(text), JID.parse(text).domain, text);
  }
  assert.equal(domainOf("[2001:DB8:0::1]"), "[2001:db8::1]");
});

Deno.test("domainOf() does not validate", () => {
  assert.equal(domainOf("a@b@c"), "b@c");
  assert.equal(domainOf("a@a_b.example"), "a_b.example");
});

Deno.test("bareOf() normalizes and drops the resource, undefined for a missing or bad JID", () => {
  assert.equal(bareOf("Juliet@Example.ORG./balcony/with/slashes"), "juliet@example.org");
  assert.equal(bareOf("example.org/resource"), "example.org");
  assert.equal(bareOf(undefined), undefined);
  assert.equal(bareOf("@bad"), undefined);
});
