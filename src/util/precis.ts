/**
 * PRECIS string classes and the two profiles XMPP addresses use: UsernameCaseMapped for
 * localparts and OpaqueString for resourceparts (RFC 8264 §8-9, RFC 8265 §3.3 and §4.2,
 * as RFC 7622 §3.3-3.4 applies them), plus the RFC 5892 context rules and the RFC 5893 Bidi
 * Rule that PRECIS and IDNA2008 share.
 *
 * Written here rather than taken from npm: the registry holds no PRECIS implementation
 * (`@mongodb-js/saslprep` and `node-stringprep` implement the older stringprep/SASLprep of
 * RFC 4013/3454, the latter through a native ICU binding that does not load in Deno; `@xmpp/jid`
 * only lower-cases). The PRECIS derived-property algorithm of RFC 8264 §8 is implemented step
 * by step, reading Unicode properties from the JavaScript engine (regular expression property
 * escapes and `String.prototype.normalize`), so it follows the engine's Unicode version.
 *
 * What is approximated, because JavaScript exposes no Bidi_Class or Joining_Type property:
 * - Bidi Rule (RFC 5893): a code point is taken as R/AL when it is not a mark or digit and its
 *   Script is a right-to-left script (or it lies in an unassigned right-to-left block); AN is the
 *   fixed list of Arabic number code points; EN is ASCII digits, U+06F0-06F9 and the superscript
 *   digits; NSM is every non-spacing or enclosing mark; other letters, digits and spacing marks
 *   are L; everything else counts as a neutral (ES, CS, ET, ON or BN, which the rule treats alike
 *   except at the ends).
 * - ZERO WIDTH NON-JOINER context (RFC 5892 A.1): every letter of a joining script (Arabic,
 *   Syriac, N'Ko, Mongolian, ...) is taken as dual-joining and marks/format characters as
 *   transparent, so a few right-joining-only sequences are accepted that the exact rule refuses.
 * The Virama test of A.1/A.2 is exact: it reads the canonical combining class from how NFD
 * reorders the code point around marks of known class 8 and 10.
 */

/** Why a string failed a PRECIS profile; `reason` reads after a noun ("Localpart " + reason). */
export class PrecisError extends Error {
  readonly reason: string;
  constructor(reason: string) {
    super(`String ${reason}`);
    this.name = "PrecisError";
    this.reason = reason;
  }
}

/**
 * The RFC 8264 §8 derived property of one code point. "FREE_PVAL" stands for the spec's
 * "ID_DIS or FREE_PVAL": allowed in FreeformClass, disallowed in IdentifierClass.
 */
export type PrecisProperty =
  | "PVALID"
  | "CONTEXTJ"
  | "CONTEXTO"
  | "FREE_PVAL"
  | "DISALLOWED"
  | "UNASSIGNED";

/** RFC 5892 §2.6 Exceptions, which RFC 8264 §9.6 checks first. */
const EXCEPTIONS = new Map<number, PrecisProperty>([
  [0x00df, "PVALID"],
  [0x03c2, "PVALID"],
  [0x06fd, "PVALID"],
  [0x06fe, "PVALID"],
  [0x0f0b, "PVALID"],
  [0x3007, "PVALID"],
  [0x00b7, "CONTEXTO"],
  [0x0375, "CONTEXTO"],
  [0x05f3, "CONTEXTO"],
  [0x05f4, "CONTEXTO"],
  [0x30fb, "CONTEXTO"],
  [0x0640, "DISALLOWED"],
  [0x07fa, "DISALLOWED"],
  [0x302e, "DISALLOWED"],
  [0x302f, "DISALLOWED"],
  [0x3031, "DISALLOWED"],
  [0x3032, "DISALLOWED"],
  [0x3033, "DISALLOWED"],
  [0x3034, "DISALLOWED"],
  [0x3035, "DISALLOWED"],
  [0x303b, "DISALLOWED"],
]);

const UNASSIGNED = /^\p{Cn}$/u;
const IGNORABLE = /^[\p{Default_Ignorable_Code_Point}\p{Noncharacter_Code_Point}]$/u;
const CONTROL = /^\p{Cc}$/u;
const LETTER_DIGITS = /^[\p{Ll}\p{Lu}\p{Lo}\p{Nd}\p{Lm}\p{Mn}\p{Mc}]$/u;
/** OtherLetterDigits, Spaces, Symbols and Punctuation: each "ID_DIS or FREE_PVAL". */
const FREE = /^[\p{Lt}\p{Nl}\p{No}\p{Me}\p{Zs}\p{Sm}\p{Sc}\p{Sk}\p{So}\p{P}]$/u;

/** Hangul_Syllable_Type L, V or T (RFC 8264 §9.9 OldHangulJamo). */
function isOldHangulJamo(cp: number): boolean {
  return (cp >= 0x1100 && cp <= 0x11ff) || (cp >= 0xa960 && cp <= 0xa97c) ||
    (cp >= 0xd7b0 && cp <= 0xd7c6) || (cp >= 0xd7cb && cp <= 0xd7fb);
}

// Code points repeat a lot (one script per name), so remember recent answers; bounded so a
// flood of distinct code points cannot grow memory.
const propertyCache = new Map<number, PrecisProperty>();
const PROPERTY_CACHE_LIMIT = 4096;

/** The derived property of `cp`, in the order RFC 8264 §8 gives. */
export function precisProperty(cp: number): PrecisProperty {
  if (cp >= 0x21 && cp <= 0x7e) return "PVALID";
  const cached = propertyCache.get(cp);
  if (cached !== undefined) return cached;
  const result = computeProperty(cp);
  if (propertyCache.size >= PROPERTY_CACHE_LIMIT) propertyCache.clear();
  propertyCache.set(cp, result);
  return result;
}

function computeProperty(cp: number): PrecisProperty {
  const exception = EXCEPTIONS.get(cp);
  if (exception !== undefined) return exception;
  // Arabic-Indic and extended Arabic-Indic digits are the range part of the Exceptions.
  if ((cp >= 0x0660 && cp <= 0x0669) || (cp >= 0x06f0 && cp <= 0x06f9)) return "CONTEXTO";
  // BackwardCompatible (RFC 5892 §2.7) is empty.
  const ch = String.fromCodePoint(cp);
  if (UNASSIGNED.test(ch)) return "UNASSIGNED";
  if (cp === 0x200c || cp === 0x200d) return "CONTEXTJ";
  if (isOldHangulJamo(cp)) return "DISALLOWED";
  if (IGNORABLE.test(ch)) return "DISALLOWED";
  if (CONTROL.test(ch)) return "DISALLOWED";
  if (ch.normalize("NFKC") !== ch) return "FREE_PVAL"; // HasCompat
  if (LETTER_DIGITS.test(ch)) return "PVALID";
  if (FREE.test(ch)) return "FREE_PVAL";
  return "DISALLOWED";
}

/** "U+00E9" style name of a code point for messages. */
export function codePointName(cp: number): string {
  return "U+" + cp.toString(16).toUpperCase().padStart(4, "0");
}

// --- RFC 5892 Appendix A context rules -------------------------------------------------------

const viramaCache = new Map<number, boolean>();

/**
 * Whether `cp` has Canonical_Combining_Class 9 (Virama). NFD swaps adjacent marks whose classes
 * are out of order, so a mark swaps with U+3099 (class 8) when its class is above 8 and with
 * U+05B0 (class 10) when its class is between 1 and 9: both together mean exactly 9.
 */
export function isVirama(cp: number): boolean {
  const cached = viramaCache.get(cp);
  if (cached !== undefined) return cached;
  const ch = String.fromCodePoint(cp);
  // The probes themselves would compare equal to themselves, so they are named outright.
  const result = cp !== 0x3099 && cp !== 0x05b0 && ch.normalize("NFD") === ch &&
    ("a" + ch + "\u3099").normalize("NFD") === "a\u3099" + ch &&
    ("a\u05b0" + ch).normalize("NFD") === "a" + ch + "\u05b0";
  if (viramaCache.size < PROPERTY_CACHE_LIMIT) viramaCache.set(cp, result);
  return result;
}

/** Builds `^[\p{Script=A}\p{Script=B}...]$` at run time: the linter's regex checker knows
 * fewer script names than V8 does. */
function scriptSet(names: readonly string[], prefix = ""): RegExp {
  return new RegExp(`^${prefix}[${names.map((n) => `\\p{Script=${n}}`).join("")}]$`, "u");
}

const JOINING_LETTER = scriptSet([
  "Arabic",
  "Syriac",
  "Nko",
  "Mongolian",
  "Mandaic",
  "Manichaean",
  "Psalter_Pahlavi",
  "Phags_Pa",
  "Adlam",
  "Hanifi_Rohingya",
  "Sogdian",
  "Old_Uyghur",
  "Chorasmian",
], "(?=\\p{L})");
const TRANSPARENT = /^[\p{Mn}\p{Me}\p{Cf}]$/u;
const GREEK = /^\p{Script=Greek}$/u;
const HEBREW = /^\p{Script=Hebrew}$/u;
const KANA_HAN = /^[\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Han}]$/u;

function ch(cp: number | undefined): string {
  return cp === undefined ? "" : String.fromCodePoint(cp);
}

/** Whether the CONTEXTJ/CONTEXTO code point at `i` of `cps` meets its RFC 5892 rule. */
export function contextRuleHolds(cps: readonly number[], i: number): boolean {
  const cp = cps[i];
  const before = cps[i - 1];
  const after = cps[i + 1];
  switch (cp) {
    case 0x200d: // A.2 ZERO WIDTH JOINER
      return before !== undefined && isVirama(before);
    case 0x200c: { // A.1 ZERO WIDTH NON-JOINER
      if (before !== undefined && isVirama(before)) return true;
      let b = i - 1;
      while (b >= 0 && TRANSPARENT.test(ch(cps[b]))) b--;
      let a = i + 1;
      while (a < cps.length && TRANSPARENT.test(ch(cps[a]))) a++;
      return b >= 0 && a < cps.length && JOINING_LETTER.test(ch(cps[b])) &&
        JOINING_LETTER.test(ch(cps[a]));
    }
    case 0x00b7: // A.3 MIDDLE DOT, only in Catalan "l·l"
      return before === 0x6c && after === 0x6c;
    case 0x0375: // A.4 GREEK LOWER NUMERAL SIGN (KERAIA)
      return after !== undefined && GREEK.test(ch(after));
    case 0x05f3: // A.5 HEBREW PUNCTUATION GERESH
    case 0x05f4: // A.6 HEBREW PUNCTUATION GERSHAYIM
      return before !== undefined && HEBREW.test(ch(before));
    case 0x30fb: // A.7 KATAKANA MIDDLE DOT
      return cps.some((c) => c !== 0x30fb && KANA_HAN.test(ch(c)));
    default:
      if (cp >= 0x0660 && cp <= 0x0669) { // A.8 ARABIC-INDIC DIGITS
        return !cps.some((c) => c >= 0x06f0 && c <= 0x06f9);
      }
      if (cp >= 0x06f0 && cp <= 0x06f9) { // A.9 EXTENDED ARABIC-INDIC DIGITS
        return !cps.some((c) => c >= 0x0660 && c <= 0x0669);
      }
      return false;
  }
}

// --- RFC 5893 Bidi Rule (approximated, see the file header) ----------------------------------

type BidiClass = "L" | "R" | "AN" | "EN" | "NSM" | "N";

const RTL_SCRIPT = scriptSet([
  "Hebrew",
  "Arabic",
  "Syriac",
  "Thaana",
  "Nko",
  "Samaritan",
  "Mandaic",
  "Adlam",
  "Hanifi_Rohingya",
  "Imperial_Aramaic",
  "Phoenician",
  "Kharoshthi",
  "Avestan",
  "Manichaean",
  "Mende_Kikakui",
  "Nabataean",
  "Old_South_Arabian",
  "Old_North_Arabian",
  "Palmyrene",
  "Psalter_Pahlavi",
  "Inscriptional_Pahlavi",
  "Inscriptional_Parthian",
  "Lydian",
  "Cypriot",
  "Hatran",
  "Old_Hungarian",
  "Sogdian",
  "Old_Sogdian",
  "Elymaic",
  "Chorasmian",
  "Yezidi",
  "Old_Uyghur",
]);
const MARK_NSM = /^[\p{Mn}\p{Me}]$/u;
const STRONG_OR_DIGIT = /^[\p{L}\p{Nd}\p{Mc}\p{Nl}]$/u;

function isArabicNumber(cp: number): boolean {
  return (cp >= 0x0600 && cp <= 0x0605) || (cp >= 0x0660 && cp <= 0x0669) ||
    cp === 0x066b || cp === 0x066c || cp === 0x06dd || cp === 0x0890 || cp === 0x0891 ||
    cp === 0x08e2 || (cp >= 0x10d30 && cp <= 0x10d39) || (cp >= 0x10e60 && cp <= 0x10e7e);
}

function isEuropeanNumber(cp: number): boolean {
  return (cp >= 0x30 && cp <= 0x39) || (cp >= 0x06f0 && cp <= 0x06f9) || cp === 0xb2 ||
    cp === 0xb3 || cp === 0xb9 || cp === 0x2070 || (cp >= 0x2074 && cp <= 0x2079) ||
    (cp >= 0x2080 && cp <= 0x2089);
}

function isRtlBlock(cp: number): boolean {
  return (cp >= 0x0590 && cp <= 0x08ff) || (cp >= 0xfb1d && cp <= 0xfdff) ||
    (cp >= 0xfe70 && cp <= 0xfeff) || (cp >= 0x10800 && cp <= 0x10fff) ||
    (cp >= 0x1e800 && cp <= 0x1efff);
}

function bidiClass(cp: number): BidiClass {
  if (cp < 0x80) {
    if (cp >= 0x30 && cp <= 0x39) return "EN";
    return (cp | 0x20) >= 0x61 && (cp | 0x20) <= 0x7a ? "L" : "N";
  }
  if (isArabicNumber(cp)) return "AN";
  if (isEuropeanNumber(cp)) return "EN";
  const c = String.fromCodePoint(cp);
  if (MARK_NSM.test(c)) return "NSM";
  if (RTL_SCRIPT.test(c)) return STRONG_OR_DIGIT.test(c) || isRtlBlock(cp) ? "R" : "N";
  return STRONG_OR_DIGIT.test(c) ? "L" : "N";
}

/** Whether any code point is right-to-left (R, AL or AN): what makes the Bidi Rule apply. */
export function hasRtl(cps: readonly number[]): boolean {
  for (const cp of cps) {
    if (cp < 0x0590) continue;
    const k = bidiClass(cp);
    if (k === "R" || k === "AN") return true;
  }
  return false;
}

/**
 * The six conditions of the RFC 5893 §2 Bidi Rule for one label or string; undefined when it
 * holds, else what is wrong.
 */
export function bidiRuleViolation(cps: readonly number[]): string | undefined {
  if (cps.length === 0) return undefined;
  const classes = cps.map(bidiClass);
  const first = classes[0];
  let last = classes.length - 1;
  while (last > 0 && classes[last] === "NSM") last--;
  const end = classes[last];
  if (first === "R") {
    if (classes.includes("L")) return "mixes left-to-right letters into right-to-left text";
    if (end !== "R" && end !== "EN" && end !== "AN") {
      return "ends right-to-left text with a neutral character";
    }
    if (classes.includes("EN") && classes.includes("AN")) {
      return "mixes European and Arabic digits in right-to-left text";
    }
    return undefined;
  }
  if (first !== "L") return "starts with a character of no strong direction";
  if (classes.includes("R") || classes.includes("AN")) {
    return "mixes right-to-left characters into left-to-right text";
  }
  if (end !== "L" && end !== "EN") return "ends left-to-right text with a neutral character";
  return undefined;
}

// --- Profiles ---------------------------------------------------------------------------------

/** Map fullwidth and halfwidth forms to their decomposition (RFC 8265 §3.3.1 width mapping). */
export function widthMap(s: string): string {
  // <wide> and <narrow> decompositions all live in U+3000 and U+FF01-FFEE; each maps to one
  // code point, which NFKD of that code point alone yields.
  return s.replace(/[\u3000\uff01-\uffee]/g, (c) => c.normalize("NFKD"));
}

export function codePoints(s: string): number[] {
  const out: number[] = [];
  for (const c of s) out.push(c.codePointAt(0)!);
  return out;
}

/**
 * Check every code point of `cps` against a base class and run the context rules; throws a
 * PrecisError naming the first offender.
 */
export function checkClass(cps: readonly number[], freeform: boolean): void {
  for (let i = 0; i < cps.length; i++) {
    const cp = cps[i];
    const p = precisProperty(cp);
    if (p === "PVALID" || (freeform && p === "FREE_PVAL")) continue;
    if (p === "CONTEXTJ" || p === "CONTEXTO") {
      if (contextRuleHolds(cps, i)) continue;
      throw new PrecisError(`contains ${codePointName(cp)} outside the context RFC 5892 allows`);
    }
    throw new PrecisError(
      p === "UNASSIGNED"
        ? `contains the unassigned code point ${codePointName(cp)}`
        : `contains the disallowed code point ${codePointName(cp)}`,
    );
  }
}

const ASCII_PRINTABLE = /^[\x21-\x7e]*$/;

/**
 * Enforce the UsernameCaseMapped profile (RFC 8265 §3.3.2): width mapping, IdentifierClass,
 * toLowerCase, NFC, Bidi Rule. Returns the enforced string or throws PrecisError.
 */
export function usernameCaseMapped(input: string): string {
  if (ASCII_PRINTABLE.test(input)) {
    // All of ASCII 0x21-0x7E is PVALID, NFC-stable and left-to-right: only case remains.
    if (input.length === 0) throw new PrecisError("is empty");
    return input.toLowerCase();
  }
  const prepared = widthMap(input);
  checkClass(codePoints(prepared), false);
  // Mapping can expose new mappable code points (e.g. a lower-cased letter that composes), so
  // repeat until stable: PRECIS output must be idempotent (RFC 8264 §7).
  let out = prepared;
  for (let i = 0; i < 4; i++) {
    const next = widthMap(out).toLowerCase().normalize("NFC");
    if (next === out) break;
    out = next;
  }
  if (out.length === 0) throw new PrecisError("is empty");
  const cps = codePoints(out);
  checkClass(cps, false);
  if (hasRtl(cps)) {
    const why = bidiRuleViolation(cps);
    if (why) throw new PrecisError(`breaks the Bidi Rule of RFC 5893: it ${why}`);
  }
  return out;
}

const ASCII_WITH_SPACE = /^[\x20-\x7e]*$/;
const NON_ASCII_SPACE = /(?!\x20)\p{Zs}/gu;

/**
 * Enforce the OpaqueString profile (RFC 8265 §4.2.2): FreeformClass, non-ASCII spaces to
 * U+0020, NFC; no case mapping and no directionality rule. Returns the enforced string or throws
 * PrecisError.
 */
export function opaqueString(input: string): string {
  if (ASCII_WITH_SPACE.test(input)) {
    if (input.length === 0) throw new PrecisError("is empty");
    return input;
  }
  checkClass(codePoints(input), true);
  const out = input.replace(NON_ASCII_SPACE, " ").normalize("NFC");
  if (out.length === 0) throw new PrecisError("is empty");
  checkClass(codePoints(out), true);
  return out;
}

/** Length of `s` in UTF-8 octets, without allocating. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}
