// Tests for the PRECIS classes, profiles, context rules and Bidi Rule (RFC 8264, 8265, 5892, 5893).
import assert from "node:assert/strict";
import {
  bidiRuleViolation,
  codePoints,
  contextRuleHolds,
  hasRtl,
  isVirama,
  opaqueString,
  PrecisError,
  precisProperty,
  usernameCaseMapped,
  utf8Length,
  widthMap,
} from "./precis.ts";

const prop = (c: string) => precisProperty(c.codePointAt(0)!);

Deno.test("precisProperty() follows the RFC 8264 §8 derivation order", () => {
  assert.equal(prop("a"), "PVALID"); // ASCII7
  assert.equal(prop("~"), "PVALID");
  assert.equal(prop("\u00e9"), "PVALID"); // LetterDigits
  assert.equal(prop("\u0915"), "PVALID");
  assert.equal(prop("\u0301"), "PVALID"); // Mn is in LetterDigits
  assert.equal(prop("\u00df"), "PVALID"); // Exceptions: PVALID
  assert.equal(prop("\u03c2"), "PVALID");
  assert.equal(prop("\u0640"), "DISALLOWED"); // Exceptions: DISALLOWED, though Lm
  assert.equal(prop("\u00b7"), "CONTEXTO"); // Exceptions: CONTEXTO
  assert.equal(prop("\u0661"), "CONTEXTO");
  assert.equal(prop("\u200c"), "CONTEXTJ");
  assert.equal(prop("\u0378"), "UNASSIGNED");
  assert.equal(prop("\u1100"), "DISALLOWED"); // OldHangulJamo
  assert.equal(prop("\u200b"), "DISALLOWED"); // Default_Ignorable_Code_Point
  assert.equal(prop("\ufdd0"), "UNASSIGNED"); // noncharacters are also Cn
  assert.equal(prop("\t"), "DISALLOWED"); // Controls
  assert.equal(prop("\u2163"), "FREE_PVAL"); // HasCompat
  assert.equal(prop("\ufb01"), "FREE_PVAL");
  assert.equal(prop("\u00a0"), "FREE_PVAL");
  assert.equal(prop(" "), "FREE_PVAL"); // Spaces
  assert.equal(prop("\u2603"), "FREE_PVAL"); // Symbols
  assert.equal(prop("\u00bf"), "FREE_PVAL"); // Punctuation
  assert.equal(prop("\u01c5"), "FREE_PVAL"); // Lt is OtherLetterDigits, but it also HasCompat
  assert.equal(prop("\u16ee"), "FREE_PVAL"); // Nl, OtherLetterDigits
  assert.equal(prop("\u2028"), "DISALLOWED"); // Zl falls through to DISALLOWED
  assert.equal(prop("\ue000"), "DISALLOWED"); // private use
  assert.equal(precisProperty(0xd800), "DISALLOWED"); // lone surrogate
});

Deno.test("isVirama() recognizes canonical combining class 9 only", () => {
  assert.equal(isVirama(0x094d), true); // DEVANAGARI SIGN VIRAMA
  assert.equal(isVirama(0x0dca), true); // SINHALA SIGN AL-LAKUNA
  assert.equal(isVirama(0x093c), false); // NUKTA, class 7
  assert.equal(isVirama(0x3099), false); // class 8
  assert.equal(isVirama(0x05b0), false); // class 10
  assert.equal(isVirama(0x0301), false); // class 230
  assert.equal(isVirama(0x61), false); // class 0
});

Deno.test("contextRuleHolds() applies the RFC 5892 Appendix A rules", () => {
  const at = (s: string, c: string) => {
    const cps = codePoints(s);
    return contextRuleHolds(cps, cps.indexOf(c.codePointAt(0)!));
  };
  assert.equal(at("\u0915\u094d\u200d\u0937", "\u200d"), true); // ZWJ after virama
  assert.equal(at("a\u200db", "\u200d"), false);
  assert.equal(at("\u0628\u200c\u0628", "\u200c"), true); // ZWNJ between joining letters
  assert.equal(at("a\u200cb", "\u200c"), false);
  assert.equal(at("l\u00b7l", "\u00b7"), true);
  assert.equal(at("l\u00b7a", "\u00b7"), false);
  assert.equal(at("\u0375\u03b1", "\u0375"), true);
  assert.equal(at("\u0375a", "\u0375"), false);
  assert.equal(at("\u05d0\u05f3", "\u05f3"), true);
  assert.equal(at("a\u05f4", "\u05f4"), false);
  assert.equal(at("\u30a2\u30fb\u30a4", "\u30fb"), true);
  assert.equal(at("a\u30fbb", "\u30fb"), false);
  assert.equal(at("\u0661\u0662", "\u0661"), true);
  assert.equal(at("\u0661\u06f2", "\u0661"), false);
  assert.equal(at("\u06f1\u0662", "\u06f1"), false);
});

Deno.test("bidiRuleViolation() checks the RFC 5893 conditions", () => {
  const v = (s: string) => bidiRuleViolation(codePoints(s));
  assert.equal(v("\u05d0\u05d1"), undefined);
  assert.equal(v("\u05d0\u05d11"), undefined); // RTL may end in EN
  assert.equal(v("\u0627\u0661"), undefined); // or AN
  assert.equal(v("\u05d0\u05b0"), undefined); // trailing NSM is skipped
  assert.match(v("\u05d0a")!, /left-to-right letters/); // condition 2
  assert.match(v("\u05d0!")!, /ends right-to-left/); // condition 3
  assert.match(v("\u0627\u0661\u06f1")!, /European and Arabic digits/); // condition 4
  assert.match(v("1\u05d0")!, /starts with/); // condition 1
  assert.equal(v("abc"), undefined);
  assert.match(v("a\u05d0")!, /right-to-left characters into left-to-right/); // condition 5
  assert.match(v("ab!")!, /ends left-to-right/); // condition 6
  assert.equal(hasRtl(codePoints("abc\u00e9")), false);
  assert.equal(hasRtl(codePoints("a\u0661")), true);
});

Deno.test("widthMap() maps fullwidth and halfwidth forms to their decompositions", () => {
  assert.equal(widthMap("\uff2a\uff55\uff4c"), "Jul");
  assert.equal(widthMap("\u3000"), " ");
  assert.equal(widthMap("\uff76"), "\u30ab"); // halfwidth katakana KA
  assert.equal(widthMap("\u00e9\u2163"), "\u00e9\u2163"); // other compatibility forms stay
});

Deno.test("usernameCaseMapped() maps width and case, normalizes to NFC and is idempotent", () => {
  assert.equal(usernameCaseMapped("Juliet"), "juliet");
  assert.equal(usernameCaseMapped("\uff2a\uff35\uff2c\uff29\uff25\uff34"), "juliet");
  assert.equal(usernameCaseMapped("J\u0075\u0301liet"), "j\u00faliet");
  // toLowerCase, not case folding (RFC 8265 §3.3.2): sharp s and final sigma survive.
  assert.equal(usernameCaseMapped("FU\u00dfBALL"), "fu\u00dfball");
  assert.equal(usernameCaseMapped("\u03a3\u0391\u03a3"), "\u03c3\u03b1\u03c2");
  for (
    const s of ["Juliet", "J\u0075\u0301liet", "\u0130stanbul", "\u03a3\u0391\u03a3", "\u05d0"]
  ) {
    const once = usernameCaseMapped(s);
    assert.equal(usernameCaseMapped(once), once);
  }
});

Deno.test("usernameCaseMapped() refuses what IdentifierClass disallows", () => {
  for (
    const s of ["", "a b", "a\tb", "\u3000", "\u2163", "\u2603", "a\u200bb", "\u1100", "\u0378"]
  ) {
    assert.throws(() => usernameCaseMapped(s), PrecisError, JSON.stringify(s));
  }
  assert.throws(() => usernameCaseMapped("\u05d0a"), /Bidi Rule/);
  assert.throws(() => usernameCaseMapped("a\u00b7b"), /U\+00B7 outside the context/);
  assert.throws(() => usernameCaseMapped("\u2163"), /disallowed code point U\+2163/);
});

Deno.test("opaqueString() keeps case and width, maps non-ASCII spaces and normalizes to NFC", () => {
  assert.equal(opaqueString("Balcony"), "Balcony");
  assert.equal(opaqueString("a b"), "a b");
  assert.equal(opaqueString("a\u00a0b\u3000c"), "a b c");
  assert.equal(opaqueString("\uff32"), "\uff32"); // no width mapping
  assert.equal(opaqueString("e\u0301"), "\u00e9");
  assert.equal(opaqueString("\u2603 \u2163"), "\u2603 \u2163");
  assert.throws(() => opaqueString(""), /is empty/);
  assert.throws(() => opaqueString("a\tb"), /U\+0009/);
  assert.throws(() => opaqueString("a\u200bb"), /U\+200B/);
  assert.throws(() => opaqueString("a\ue000"), /U\+E000/);
});

Deno.test("utf8Length() counts UTF-8 octets like TextEncoder", () => {
  const enc = new TextEncoder();
  for (const s of ["", "abc", "\u00e9", "\u20ac", "\u{1f600}", "a\ud800b", "\udc00"]) {
    assert.equal(utf8Length(s), enc.encode(s).length, JSON.stringify(s));
  }
});
